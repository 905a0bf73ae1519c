"""The paper's spiking FPN: mmdet's FPN with the time axis kept."""
from typing import Optional, Sequence

from mmdet.models.necks import FPN

from ...registry import MODELS
from ..backbones.meta_spikeformer import built_backbone_channels
from ..layers import SpikeDriven, check_time_axis, fold_time, unfold_time


@MODELS.register_module()
class SpikingFPN(FPN):
    """mmdet's ``FPN`` on ``[T, B, C, H, W]`` taps, returning
    ``[T, B, out_channels, H, W]`` levels: every lateral and output conv
    gets a leading LIF neuron (:class:`~spikeformer_mm.models.layers.SpikeDriven`),
    so it does accumulates on spikes, and nothing is averaged over time.
    The paper's ``SpikeFPN`` (detection code, ``necks/spike_fpn.py``).

    The rest is mmdet's ``FPN.forward`` unchanged, run with time folded into
    the batch (the top-down additions, upsampling and the max-pooled extra
    level are per sample). For the dense alternative, which averages over T
    first, see :class:`~spikeformer_mm.models.necks.SpikeToDense`.

    Args:
        in_channels (Sequence[int], optional): channels of each tap; by
            default the backbone's ``out_channels`` (the MetaSpikeFormer
            built just before this neck).
        out_channels (int): channels of every level.
        num_outs (int): number of levels.
        neuron_cfg (dict, optional): overrides of the LIF defaults.
        **kwargs: the other arguments of mmdet's ``FPN``.
    """

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = None,
                 out_channels: int = 256,
                 num_outs: int = 5,
                 neuron_cfg: Optional[dict] = None,
                 **kwargs):
        if in_channels is None:
            in_channels = built_backbone_channels('SpikingFPN')
        super().__init__(list(in_channels), out_channels, num_outs, **kwargs)
        for convs in (self.lateral_convs, self.fpn_convs):
            for i, conv in enumerate(convs):
                convs[i] = SpikeDriven(conv, neuron_cfg)

    def forward(self, inputs):
        for i, x in enumerate(inputs):
            check_time_axis(x, 'SpikingFPN', f'level {i}')
        T = inputs[0].shape[0]
        for m in self.modules():
            if isinstance(m, SpikeDriven):
                m.time_folded = T
        outs = super().forward(tuple(fold_time(x) for x in inputs))
        return tuple(unfold_time(y, T) for y in outs)
