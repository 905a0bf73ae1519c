"""The seam between the spiking backbone and mm's dense heads."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ...registry import MODELS, caller_scope
from ..layers import (check_channels, check_time_axis,
                      require_complete_weights)

REDUCTIONS = ('mean', 'sum', 'last', 'max')


def reduce_time(x: torch.Tensor, mode: str = 'mean') -> torch.Tensor:
    """Reduce ``[T, B, ...]`` over time.

    ``'mean'`` is rate decoding (the firing rate of spikes, the mean
    membrane-shortcut value of real-valued taps) and what the paper's
    segmentation code did; ``'sum'`` counts spikes; ``'last'`` keeps the
    final step; ``'max'`` is any-spike.
    """
    if x.dim() < 3:
        raise ValueError(f'expected a [T, B, ...] tensor, got shape '
                         f'{tuple(x.shape)}')
    if mode == 'mean':
        return x.mean(0)
    if mode == 'sum':
        return x.sum(0)
    if mode == 'last':
        return x[-1]
    if mode == 'max':
        return x.amax(0)
    raise ValueError(f'reduction must be one of {REDUCTIONS}, got {mode!r}')


@MODELS.register_module()
class SpikeToDense(BaseModule):
    """Turn the backbone's tuple of ``[T, B, C, H, W]`` maps into the tuple of
    dense ``[B, C, H, W]`` features that mm's necks and heads expect, and
    optionally run an mm neck on them:

    .. code-block:: python

        neck=dict(type='spikeformer_mm.SpikeToDense', reduction='mean',
                  neck=dict(type='FPN', out_channels=256, num_outs=5))

    ``in_channels`` are the backbone's ``out_channels`` (the per-size model
    bases of ``configs/_base_/models/`` write them once, as
    ``tap_channels``); the inner neck's ``in_channels`` may be left out:
    they are then these (or ``out_channels`` for every level). A level
    whose channels differ from ``in_channels`` is refused at the first
    forward, naming both. The inner neck is built in the caller's default
    scope (mmdet's ``FPN`` in a detection config, mmseg's in a segmentation
    one). A checkpoint written with the older list form
    (``neck=[SpikeToDense, FPN]``, keys ``neck.1.*``) loads unchanged.

    Args:
        reduction (str): temporal reduction, see :func:`reduce_time`.
            Defaults to ``'mean'`` (rate decoding).
        neck (dict, optional): an mm neck applied to the dense features.
        in_channels (Sequence[int], optional): channels of each level (the
            backbone's ``out_channels``). Needed by ``out_channels`` and by
            ``neck``.
        out_channels (int, optional): if set, each level gets a 1x1 conv + BN
            to this many channels (applied after the reduction).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 neck: Optional[dict] = None,
                 in_channels: Optional[Sequence[int]] = None,
                 out_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if reduction not in REDUCTIONS:
            raise ValueError(f'SpikeToDense: reduction must be one of '
                             f'{REDUCTIONS}, got {reduction!r}')
        self.reduction = reduction
        if in_channels is None and (neck is not None or
                                    out_channels is not None):
            raise ValueError('SpikeToDense: in_channels (the backbone\'s '
                             'out_channels, e.g. _base_.tap_channels[1:]) is '
                             'needed with neck or out_channels')
        self.in_channels = None if in_channels is None else list(in_channels)
        self.projs = None
        if out_channels is not None:
            self.projs = nn.ModuleList(
                nn.Sequential(nn.Conv2d(c, out_channels, 1, bias=False),
                              nn.BatchNorm2d(out_channels))
                for c in in_channels)
        self.neck = None
        if neck is not None:
            neck = dict(neck)
            if 'in_channels' not in neck:
                neck['in_channels'] = list(in_channels) if out_channels is \
                    None else [out_channels] * len(in_channels)
            if '_scope_' not in neck and '.' not in str(neck.get('type')):
                neck['_scope_'] = caller_scope()  # e.g. mmdet's FPN
            self.neck = MODELS.build(neck)
        self._register_load_state_dict_pre_hook(self._upgrade_list_form)
        require_complete_weights(self, 'SpikeToDense')  # after the upgrade

    def _upgrade_list_form(self, state_dict, prefix, *args):
        # ``neck=[SpikeToDense, X]`` was an nn.Sequential: this module's keys
        # were ``<prefix>0.*`` and X's ``<prefix>1.*``
        for old, new in ((prefix + '0.', prefix),
                         (prefix + '1.', prefix + 'neck.')):
            for k in [k for k in state_dict if k.startswith(old)]:
                state_dict[new + k[len(old):]] = state_dict.pop(k)

    def forward(self, inputs):
        if torch.is_tensor(inputs):
            inputs = (inputs, )
        outs = []
        for i, x in enumerate(inputs):
            check_time_axis(x, 'SpikeToDense', f'level {i}')
            if self.in_channels is not None:
                check_channels(x, self.in_channels, i, 'SpikeToDense')
            y = reduce_time(x, self.reduction)
            if self.projs is not None:
                y = self.projs[i](y)
            outs.append(y)
        outs = tuple(outs)
        return outs if self.neck is None else self.neck(outs)
