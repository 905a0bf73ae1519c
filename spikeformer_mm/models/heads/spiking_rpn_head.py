"""The paper's spiking RPN head: mmdet's RPNHead with the time axis kept."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmdet.models.dense_heads import RPNHead

from ...registry import MODELS
from ..layers import (SpikeDriven, check_time_axis, fold_time,
                      require_complete_weights, unfold_time)
from ..neurons import build_neuron


@MODELS.register_module()
class SpikingRPNHead(RPNHead):
    """mmdet's ``RPNHead`` on ``[T, B, C, H, W]`` levels (those of
    :class:`~spikeformer_mm.models.necks.SpikingFPN`): the shared conv and
    the two 1x1 predictors each get a leading LIF neuron, and the objectness
    scores and box deltas are averaged over T, the only averaging point (the
    paper's ``SpikeRPNHead``). Everything after ``forward_single`` (anchors,
    targets, losses, proposals) is mmdet's, on the averaged outputs.

    Deviations from mmdet's head, as in the paper's: no ReLU after the
    shared conv (the neuron that follows is the non-linearity). One neuron
    feeds both predictors (the paper gives each its own, but with the same
    input and parameters they fire the same spikes).

    Args:
        in_channels (int): channels of the input levels.
        neuron_cfg (dict, optional): overrides of the LIF defaults.
        norm_cfg (dict, optional): a norm layer after the shared conv(s)
            (the paper has none; see the demo config for why it helps).
        **kwargs: the other arguments of mmdet's ``RPNHead``.
    """

    def __init__(self, in_channels: int, neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None, **kwargs):
        self.neuron_cfg = neuron_cfg
        self.shared_norm_cfg = norm_cfg
        super().__init__(in_channels, **kwargs)

    def _init_layers(self):
        super()._init_layers()
        convs = list(self.rpn_conv) if isinstance(
            self.rpn_conv, nn.Sequential) else [self.rpn_conv]

        def norm():
            if self.shared_norm_cfg is None:
                return None
            return build_norm_layer(self.shared_norm_cfg,
                                    self.feat_channels)[1]

        self.rpn_conv = nn.Sequential(
            *[SpikeDriven(c, self.neuron_cfg, norm()) for c in convs])
        self.pred_lif = build_neuron(self.neuron_cfg)
        require_complete_weights(self, 'SpikingRPNHead')

    def forward_single(self, x):
        check_time_axis(x, 'SpikingRPNHead', 'a level',
                        use='SpikingFPN as the neck')
        T = x.shape[0]
        x = self.rpn_conv(x)
        self.pred_lif.reset()
        s = fold_time(self.pred_lif(x))
        cls_score = unfold_time(self.rpn_cls(s), T).mean(0)
        bbox_pred = unfold_time(self.rpn_reg(s), T).mean(0)
        return cls_score, bbox_pred
