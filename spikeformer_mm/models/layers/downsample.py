"""Downsampling between stages, and a neuron in front of a dense layer."""

from typing import Dict

import torch
import torch.nn as nn

from ..neurons import build_neuron
from .time_axis import fold_time, unfold_time
from .fusing import build_norm, fold_bn, fold_bn_pairs, is_bn
from .residual import maybe_neuron


class SpikingDownsample(nn.Module):
    """Downsampling (paper: ``MS_DownSampling``): [SN], conv with bias, BN.

    The first layer sees the image and has no leading neuron. Under the
    spike shortcuts the neuron moves to the end, so that blocks receive
    spikes.

    Args:
        in_channels, out_channels (int): channels.
        kernel_size, stride, padding (int): of the conv.
        first_layer (bool): the encoding layer (no leading neuron).
        shortcut (str): the backbone's shortcut (where the neuron goes).
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=2,
                 padding=1, first_layer=False, shortcut='ms', neuron_cfg=None,
                 norm_cfg=None):
        super().__init__()
        ms = shortcut == 'ms'
        self.encode_lif = maybe_neuron(ms and not first_layer, neuron_cfg)
        self.encode_conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                                     stride=stride, padding=padding)
        self.encode_bn = build_norm(norm_cfg, out_channels)
        self.out_lif = maybe_neuron(not ms, neuron_cfg)

    def switch_to_deploy(self, form='dense'):
        fold_bn_pairs(self, (('encode_conv', 'encode_bn'), ))

    def runs_once_for(self, x: torch.Tensor) -> Dict[str, int]:
        """The synaptic sub-layers that run once for all ``T`` steps of
        input ``x``, ``{name: T}`` (asked by the energy meter, which bills
        them once): the encoding conv when ``x`` is a static image expanded
        over ``T`` (:meth:`MetaSpikeFormer.encode`) and no neuron precedes
        it."""
        T = x.shape[0]
        if T > 1 and x.stride(0) == 0 and isinstance(self.encode_lif,
                                                     nn.Identity):
            return {'encode_conv': T}
        return {}

    def forward(self, x):
        T = x.shape[0]
        if self.runs_once_for(x):
            # a static image expanded over T: the encoding conv would see
            # the same input at every step, so it runs once and its output
            # is copied to the T steps (in the layout the next layers run
            # in). The same values and, through expand's backward, the same
            # gradients; BN statistics of T copies are those of one.
            y = self.encode_bn(self.encode_conv(x[0]))
            x = fold_time(y.unsqueeze(0).expand(T, *y.shape))
        else:
            x = self.encode_bn(self.encode_conv(fold_time(
                self.encode_lif(x))))
        return self.out_lif(unfold_time(x, T))


class SpikeDriven(nn.Module):
    """``layer(SN(x))``: a neuron turns a real-valued input into spikes and a
    synaptic layer (a conv, a linear, an mm ``ConvModule``) runs on them, so
    the layer does accumulates only. This is how the paper's detection code
    makes mmdet's FPN and heads spiking: every conv gets a leading LIF
    neuron (its ``nn.Sequential(MultiStepLIFNode, SeqToANNContainer(conv))``).

    Input and output are ``[T, B, ...]`` (time first, always); the layer
    runs with time folded into the batch.

    The neuron is reset at every call: one call is one whole sequence (a
    head shared over FPN levels runs once per level, and two forwards in a
    row give the same output).

    Args:
        layer (nn.Module): the synaptic layer.
        neuron_cfg (dict, optional): the neuron (see
            :func:`spikeformer_mm.models.neurons.build_neuron`).
        norm (nn.Module, optional): a normalisation after the layer (a
            BatchNorm, folded into it by :meth:`switch_to_deploy`).
    """

    def __init__(self, layer, neuron_cfg=None, norm=None):
        super().__init__()
        self.lif = build_neuron(neuron_cfg)
        self.layer = layer
        self.norm = norm

    def switch_to_deploy(self, form='dense'):
        """Fold ``norm`` into ``layer``, and the BatchNorm inside an mm
        ``ConvModule`` layer into its conv (mmcv's ``fuse_conv_bn``)."""
        if is_bn(self.norm):
            self.layer = fold_bn(self.layer, self.norm)
            self.norm = None
        if not isinstance(self.layer, (nn.Conv2d, nn.ConvTranspose2d,
                                       nn.Linear)):
            from mmcv.cnn import fuse_conv_bn
            fuse_conv_bn(self.layer)

    def forward(self, x):
        self.lif.reset()
        T = x.shape[0]
        y = self.layer(fold_time(self.lif(x)))
        if self.norm is not None:
            y = self.norm(y)
        return unfold_time(y, T)
