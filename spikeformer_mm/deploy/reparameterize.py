"""Deploy-time re-parameterisation of a whole model: every BatchNorm
folded into the layer before it, each RepConv collapsed.

The BN-and-pad design of the paper's RepConv exists for this: padding the
BN output with the value BN gives for a zero input makes

    BN3(BN2(pw(dw3x3(pad(BN1(conv1x1(x)))))))

exactly one 3x3 convolution with zero padding and a bias. The deployed
model computes the same function as the trained one in eval mode (to float
rounding: tested at 1e-5 in fp32), with fewer, larger ops. It is for
inference only: the folded layers have no BatchNorm to train.

Each layer owns its folding (``switch_to_deploy(form)``, the name
mmpretrain's re-parameterisation calls): the backbone's blocks, the
spiking neck and heads (:class:`~spikeformer_mm.models.layers.SpikeDriven`,
the box head's shared-layer norms). :func:`switch_to_deploy` calls each of
them. The two RepConv forms are those of
:data:`~spikeformer_mm.models.layers.REP_CONV_FORMS`.
"""
from typing import Union

import torch.nn as nn
from spikingjelly.activation_based import functional

from ..models.layers import parse_deploy_form


def switch_to_deploy(model: nn.Module,
                     rep_conv: Union[bool, str] = 'dense') -> nn.Module:
    """Re-parameterise every layer of ``model`` (a whole classifier,
    detector or segmentor, or a backbone) that has a ``switch_to_deploy``,
    in place; returns ``model`` in eval mode.

    Args:
        rep_conv (str | bool): ``'dense'`` (one 3x3 conv; ``True`` means
            the same, as in ``MetaSpikeFormer(deploy=True)``) or
            ``'factorised'`` (1x1, depthwise 3x3, 1x1; fastest on CPUs).
    """
    form = parse_deploy_form(rep_conv)
    model.eval()
    layers = [m for m in model.modules() if hasattr(m, 'switch_to_deploy')]
    if not layers:
        raise ValueError('switch_to_deploy: the model has no spiking layer '
                         'to re-parameterise')
    for m in layers:  # each changes only its own sub-layers, idempotently
        m.switch_to_deploy(form)
    functional.invalidate_reset_cache(model)
    return model
