"""The seam between the spiking backbone and mm's dense heads."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ...registry import MODELS

REDUCTIONS = ('mean', 'sum', 'last', 'max')


def reduce_time(x, mode='mean'):
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
    dense ``[B, C, H, W]`` features that mm's necks and heads expect.

    Compose it with mmdet's or mmseg's ``FPN`` as a list of necks
    (``neck=[dict(type='spikeformer_mm.SpikeToDense'), dict(type='FPN', ...)]``)
    or use its ``out_channels`` to add per-level 1x1 projections.

    Args:
        reduction (str): temporal reduction, see :func:`reduce_time`.
            Defaults to ``'mean'`` (rate decoding).
        in_channels (Sequence[int], optional): channels of each level, needed
            only with ``out_channels``.
        out_channels (int, optional): if set, each level gets a 1x1 conv + BN
            to this many channels (applied after the reduction).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, reduction='mean', in_channels=None, out_channels=None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if reduction not in REDUCTIONS:
            raise ValueError(f'SpikeToDense: reduction must be one of '
                             f'{REDUCTIONS}, got {reduction!r}')
        self.reduction = reduction
        self.projs = None
        if out_channels is not None:
            if not in_channels:
                raise ValueError('SpikeToDense: out_channels needs in_channels')
            self.projs = nn.ModuleList(
                nn.Sequential(nn.Conv2d(c, out_channels, 1, bias=False),
                              nn.BatchNorm2d(out_channels))
                for c in in_channels)

    def forward(self, inputs):
        if torch.is_tensor(inputs):
            inputs = (inputs, )
        outs = []
        for i, x in enumerate(inputs):
            if x.dim() != 5:
                raise ValueError(
                    f'SpikeToDense: level {i} has shape {tuple(x.shape)}; '
                    f'expected [T, B, C, H, W]')
            y = reduce_time(x, self.reduction)
            if self.projs is not None:
                y = self.projs[i](y)
            outs.append(y)
        return tuple(outs)
