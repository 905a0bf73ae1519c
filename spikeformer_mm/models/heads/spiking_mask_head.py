"""The paper's spiking mask head: mmdet's FCNMaskHead on [T, N, ...]."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.ops.carafe import CARAFEPack
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmengine.model import BaseModule

from ...registry import MODELS
from ..layers import SpikeDriven, check_time_axis, fold_time, unfold_time


@MODELS.register_module()
class SpikingFCNMaskHead(FCNMaskHead):
    """mmdet's ``FCNMaskHead`` on RoI features ``[T, N, C, h, w]`` (from
    :class:`SpikingRoIHead`): each conv, the deconv upsampling and the 1x1
    logits conv get a leading LIF neuron, and the mask logits are averaged
    over T (the paper's ``SpikeFCNMaskHead``). Targets, loss and pasting
    are mmdet's, on the averaged logits.

    As in the paper: no ReLU after the deconv (the next neuron is the
    non-linearity); the convs keep mmdet's ``ConvModule`` activation. With
    ``norm_cfg`` (mmdet's, for the convs; the paper has none) the deconv
    gets the same norm.
    Parameter-free upsampling (``'nearest'``, ``'bilinear'``) runs on the
    real values, without a neuron.

    Args:
        neuron_cfg (dict, optional): overrides of the LIF defaults.
        **kwargs: the arguments of mmdet's ``FCNMaskHead``.
    """

    def __init__(self, *args, neuron_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        for i, conv in enumerate(self.convs):
            self.convs[i] = SpikeDriven(conv, neuron_cfg)
        if self.upsample_method in ('deconv', 'carafe'):
            norm = None if self.norm_cfg is None else build_norm_layer(
                self.norm_cfg, self.conv_out_channels)[1]
            self.upsample = SpikeDriven(self.upsample, neuron_cfg, norm)
        self.conv_logits = SpikeDriven(self.conv_logits, neuron_cfg)

    def init_weights(self):
        # mmdet's, reaching the layers inside the SpikeDriven wrappers
        BaseModule.init_weights(self)
        for m in (self.upsample, self.conv_logits):
            m = m.layer if isinstance(m, SpikeDriven) else m
            if m is None:
                continue
            if isinstance(m, CARAFEPack):
                m.init_weights()
            elif hasattr(m, 'weight') and hasattr(m, 'bias'):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        check_time_axis(x, 'SpikingFCNMaskHead', 'RoI features',
                        '[T, N, C, h, w]', 'SpikingRoIHead')
        T = x.shape[0]
        for conv in self.convs:
            x = conv(x)
        if isinstance(self.upsample, SpikeDriven):
            x = self.upsample(x)
        elif self.upsample is not None:
            x = unfold_time(self.upsample(fold_time(x)), T)
        return self.conv_logits(x).mean(0)
