"""The paper's spiking box head: mmdet's Shared2FCBBoxHead on [T, N, ...]."""
from typing import Optional

import torch.nn as nn
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead

from ...registry import MODELS
from ..layers import (SpikeDriven, check_time_axis, fold_bn, fold_time,
                      is_bn, unfold_time)


@MODELS.register_module()
class SpikingShared2FCBBoxHead(Shared2FCBBoxHead):
    """mmdet's ``Shared2FCBBoxHead`` on RoI features ``[T, N, C, h, w]``
    (from :class:`SpikingRoIHead`): the two shared fully connected layers
    each get a leading LIF neuron (accumulates on spikes), and the class
    scores and box deltas are averaged over T (the paper's
    ``SharedSpike2FCBBoxHead``). Losses and post-processing are mmdet's, on
    the averaged outputs.

    As in the paper: no ReLU after the shared layers (the next neuron is the
    non-linearity), and the two predictors (``fc_cls``, ``fc_reg``) read the
    last shared layer's real-valued output, so they are the head's only
    multiply-accumulates (``(C+1 + 4C) x fc_out_channels`` per RoI and time
    step).

    Args:
        neuron_cfg (dict, optional): overrides of the LIF defaults.
        norm_cfg (dict, optional): if set, each shared layer is followed by
            a ``BatchNorm1d`` (mmdet's head uses ``norm_cfg`` for convs
            only, and this head has none; the paper has no norm here).
        **kwargs: the arguments of mmdet's ``Shared2FCBBoxHead``.
    """

    def __init__(self, *args, neuron_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        # the norms live beside ``shared_fcs``: mmdet's init_cfg applies
        # Xavier to every weight under that name
        self.shared_fc_norms = nn.ModuleList(
            nn.BatchNorm1d(fc.out_features) if self.norm_cfg is not None
            else nn.Identity() for fc in self.shared_fcs)
        for i, fc in enumerate(self.shared_fcs):
            self.shared_fcs[i] = SpikeDriven(fc, neuron_cfg)

    def switch_to_deploy(self, form='dense'):
        """Fold each shared layer's BatchNorm into it (deployment)."""
        for i, norm in enumerate(self.shared_fc_norms):
            if is_bn(norm):
                fc = self.shared_fcs[i]
                fc.layer = fold_bn(fc.layer, norm)
                self.shared_fc_norms[i] = nn.Identity()

    def forward(self, x):
        check_time_axis(x, 'SpikingShared2FCBBoxHead', 'RoI features',
                        '[T, N, C, h, w]', 'SpikingRoIHead')
        T = x.shape[0]
        x = x.flatten(2)  # [T, N, C*h*w]
        for fc, norm in zip(self.shared_fcs, self.shared_fc_norms):
            x = unfold_time(norm(fold_time(fc(x))), T)
        cls_score = self.fc_cls(x).mean(0) if self.with_cls else None
        bbox_pred = self.fc_reg(x).mean(0) if self.with_reg else None
        return cls_score, bbox_pred
