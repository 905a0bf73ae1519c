"""The paper's spiking FPN: mmdet's FPN with the time axis kept."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.necks import FPN

from ...registry import MODELS
from ..layers import (SpikeDriven, check_channels, check_time_axis,
                      fold_time, require_complete_weights, unfold_time)


@MODELS.register_module()
class SpikingFPN(FPN):
    """mmdet's ``FPN`` on ``[T, B, C, H, W]`` taps, returning
    ``[T, B, out_channels, H, W]`` levels: every lateral and output conv
    gets a leading LIF neuron (:class:`~spikeformer_mm.models.layers.SpikeDriven`),
    so it does accumulates on spikes, and nothing is averaged over time.
    The paper's ``SpikeFPN`` (detection code, ``necks/spike_fpn.py``).

    The layers are mmdet's (built by its ``FPN.__init__``, then wrapped);
    :meth:`forward` is mmdet's ``FPN.forward`` with the time axis kept: the
    convs take ``[T, B, ...]``, the top-down additions, upsampling and the
    max-pooled extra level run on each step (time folded into the batch).
    T is the inputs' first dimension, nothing else. For the dense
    alternative, which averages over T first, see
    :class:`~spikeformer_mm.models.necks.SpikeToDense`.

    Args:
        in_channels (Sequence[int]): channels of each tap (the backbone's
            ``out_channels``).
        out_channels (int): channels of every level.
        num_outs (int): number of levels.
        neuron_cfg (dict, optional): the neuron (see
            :func:`~spikeformer_mm.models.neurons.build_neuron`).
        **kwargs: the other arguments of mmdet's ``FPN``.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int = 256,
                 num_outs: int = 5,
                 neuron_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(list(in_channels), out_channels, num_outs, **kwargs)
        for convs in (self.lateral_convs, self.fpn_convs):
            for i, conv in enumerate(convs):
                convs[i] = SpikeDriven(conv, neuron_cfg)
        require_complete_weights(self, 'SpikingFPN')

    def _per_step(self, fn, x, **kwargs):
        """``fn`` (a parameter-free 4-D op) on each step of ``[T, B, ...]``."""
        return unfold_time(fn(fold_time(x), **kwargs), x.shape[0])

    def forward(self, inputs: Sequence[torch.Tensor]
                ) -> Tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'SpikingFPN: {len(inputs)} levels, built for '
                             f'{len(self.in_channels)} (in_channels)')
        for i, x in enumerate(inputs):
            check_time_axis(x, 'SpikingFPN', f'level {i}')
            check_channels(x, self.in_channels, i, 'SpikingFPN')
        laterals = [conv(inputs[i + self.start_level])
                    for i, conv in enumerate(self.lateral_convs)]
        used = len(laterals)
        for i in range(used - 1, 0, -1):
            up = dict(self.upsample_cfg)
            if 'scale_factor' not in up:
                up['size'] = laterals[i - 1].shape[3:]
            laterals[i - 1] = laterals[i - 1] + self._per_step(
                F.interpolate, laterals[i], **up)
        outs = [self.fpn_convs[i](laterals[i]) for i in range(used)]
        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(self._per_step(F.max_pool2d, outs[-1],
                                               kernel_size=1, stride=2))
            else:
                source = {'on_input': inputs[self.backbone_end_level - 1],
                          'on_lateral': laterals[-1],
                          'on_output': outs[-1]}[self.add_extra_convs]
                outs.append(self.fpn_convs[used](source))
                for i in range(used + 1, self.num_outs):
                    x = F.relu(outs[-1]) if self.relu_before_extra_convs \
                        else outs[-1]
                    outs.append(self.fpn_convs[i](x))
        return tuple(outs)
