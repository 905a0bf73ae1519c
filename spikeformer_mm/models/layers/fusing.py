"""Deployment helpers: BatchNorm folding and the deploy forms.

Every layer that has BatchNorms to fold or a RepConv to collapse owns a
``switch_to_deploy(form)`` (the name mmpretrain's re-parameterisation
calls); it changes only its own direct sub-layers and is idempotent, so
:func:`spikeformer_mm.deploy.switch_to_deploy` may call every such layer
of a model in turn. ``form`` is the RepConv form (:data:`REP_CONV_FORMS`)."""
from typing import Optional, Union

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

# The two deploy forms of a RepConv: ``'dense'``, the paper's (one 3x3
# conv: fewest ops, best on GPUs, but 9x the multiply-adds of the 1x1 convs
# it replaces, so slower where FLOPs are the limit), and ``'factorised'``
# (1x1, depthwise 3x3, 1x1, every BN folded; exact too, fastest on CPUs).
REP_CONV_FORMS = {'dense': 'fuse_dense', 'factorised': 'fuse_factorised'}


def is_bn(m: Optional[nn.Module]) -> bool:
    return isinstance(m, nn.modules.batchnorm._BatchNorm)


@torch.no_grad()
def fold_bn(layer: nn.Module, bn: nn.Module) -> nn.Module:
    """``layer`` followed by the eval-mode BatchNorm ``bn`` as one layer with
    a bias (torch's own exact folding): a conv, transposed conv or linear."""
    if isinstance(layer, nn.ConvTranspose2d):
        return fuse_conv_bn_eval(layer, bn, transpose=True)
    if isinstance(layer, nn.Conv2d):
        return fuse_conv_bn_eval(layer, bn)
    if isinstance(layer, nn.Linear):
        return fuse_linear_bn_eval(layer, bn)
    raise TypeError(f'cannot fold a BatchNorm into a {type(layer).__name__}')


def fold_bn_pairs(module: nn.Module, pairs) -> None:
    """Fold, in place, each ``(layer name, BN name)`` pair of ``module``;
    the BN becomes an ``nn.Identity`` (so a second call does nothing)."""
    for layer_name, bn_name in pairs:
        bn = getattr(module, bn_name)
        if is_bn(bn):
            setattr(module, layer_name,
                    fold_bn(getattr(module, layer_name), bn))
            setattr(module, bn_name, nn.Identity())


def parse_deploy_form(form: Union[bool, str]) -> str:
    """``True`` means ``'dense'`` (the paper's form); else a name of
    :data:`REP_CONV_FORMS`."""
    if form is True:
        form = 'dense'
    if form not in REP_CONV_FORMS:
        raise ValueError(f'deploy form (rep_conv) must be True or one of '
                         f'{sorted(REP_CONV_FORMS)}, got {form!r}')
    return form


def bn_affine(bn):
    """Per-channel (scale, shift) of an eval-mode BatchNorm."""
    std = torch.sqrt(bn.running_var + bn.eps)
    w = bn.weight if bn.affine else torch.ones_like(std)
    b = bn.bias if bn.affine else torch.zeros_like(std)
    scale = w / std
    return scale, b - bn.running_mean * scale


# The normalisation of every spiking layer, as mmpretrain's layers take it
# (``norm_cfg``): a batch norm, because each folds into the conv before it
# at deployment (``BN``, or ``SyncBN`` for distributed training).
NORM_CFG = dict(type='BN')
FOLDABLE_NORMS = ('BN', 'BN2d', 'SyncBN')


def build_norm(norm_cfg: Optional[dict], num_features: int, **kwargs
               ) -> nn.Module:
    """mmcv's ``build_norm_layer(norm_cfg, num_features)`` (``kwargs``:
    e.g. ``eps``), refusing a norm that cannot be folded into a conv."""
    from mmcv.cnn import build_norm_layer
    cfg = dict(norm_cfg or NORM_CFG)
    if cfg.get('type') not in FOLDABLE_NORMS:
        raise ValueError(f'norm_cfg type must be one of {FOLDABLE_NORMS} '
                         '(a batch norm: it folds into the conv at '
                         f'deployment), got {cfg.get("type")!r}')
    cfg.update(kwargs)
    return build_norm_layer(cfg, num_features)[1]

