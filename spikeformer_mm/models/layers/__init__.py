"""Spiking layers of Meta-SpikeFormer (Yao et al., ICLR 2024).

Every activation is ``[T, B, C, H, W]``; convolutions and BatchNorms run on
``[T*B, ...]`` (time folded into the batch, so BN statistics are shared over
time steps). Sub-module names follow the paper's official code so that its
checkpoints map onto these modules key by key (docs/model.md, "Blocks").

Shortcuts (paper, Sec. 4 / Table 5). For a branch ``F``:

* ``'ms'`` (membrane shortcut, default): ``x + F(x)``, ``F`` starts with a
  neuron; the residual stream is real valued.
* ``'sew'`` (spike-element-wise): ``SN(F(s)) + s``.
* ``'vanilla'``: ``SN(F(s) + s)``.

In the two spike shortcuts the branch drops its leading neuron (its input
is already spikes) and each block ends with a neuron.

One module per job: :mod:`.time_axis`, :mod:`.fusing`, :mod:`.residual`,
:mod:`.conv`, :mod:`.attention`, :mod:`.transformer`, :mod:`.downsample`;
the names are re-exported here, where callers have always found them.
"""
from .time_axis import (check_channels, check_time_axis,  # noqa: F401
                        fold_time, is_channels_last, unfold_time)
from .fusing import (NORM_CFG, REP_CONV_FORMS, build_norm,  # noqa: F401
                     fold_bn, fold_bn_pairs, is_bn, parse_deploy_form)
from .residual import (SHORTCUTS, TemporalDropPath,  # noqa: F401
                       residual, run_branch)
from .conv import (BNAndPad, MSConvBlock, RepConv,  # noqa: F401
                   SepConv, rep_conv_bn)
from .attention import (ATTENTIONS, SpikingSelfAttention,  # noqa: F401
                        unit_event_matmul)
from .transformer import SpikingMLP, MSBlock  # noqa: F401
from .downsample import SpikingDownsample, SpikeDriven  # noqa: F401
from ..strict_loading import (IncompleteWeightsError,  # noqa: F401
                              fits_loaded_shape, lenient_loading,
                              require_complete_weights)
