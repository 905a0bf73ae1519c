"""The convolutional layers: RepConv and its BN-and-pad, SepConv and the
conv block (MSConvBlock)."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..neurons import build_neuron
from .time_axis import fold_time, unfold_time
from .fusing import (REP_CONV_FORMS, bn_affine, build_norm, fold_bn_pairs,
                     parse_deploy_form)
from .residual import TemporalDropPath, residual, run_branch, maybe_neuron


class BNAndPad(nn.Module):
    """BatchNorm whose output is padded with the value BN gives for zero input.

    Padding with ``bias - mean * weight / sqrt(var + eps)`` instead of zero
    makes ``1x1 conv -> BN -> pad -> 3x3 dwconv`` exactly equal to one 3x3
    conv after re-parameterisation (the RepConv design of the paper).

    Args:
        num_features (int): channels.
        pad_pixels (int): border width added on each side.
        eps, momentum (float): of the BatchNorm.
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, num_features, pad_pixels=1, eps=1e-5, momentum=0.1,
                 norm_cfg=None):
        super().__init__()
        self.bn = build_norm(norm_cfg, num_features, eps=eps,
                             momentum=momentum)
        self.pad_pixels = pad_pixels

    def pad_values(self):
        bn = self.bn
        return (bn.bias.detach() - bn.running_mean * bn.weight.detach() /
                torch.sqrt(bn.running_var + bn.eps))

    def forward(self, x):
        out = self.bn(x)
        p = self.pad_pixels
        if p > 0:
            c = self.pad_values().view(1, -1, 1, 1).to(out.dtype)
            out = F.pad(out, [p] * 4)
            border = torch.ones(out.shape[-2:], dtype=torch.bool,
                                device=out.device)
            border[p:-p, p:-p] = False
            out = torch.where(border, c, out)
        return out


class FusedRepConv(nn.Conv2d):
    """RepConv's dense deploy form: one 3x3 conv with a bias, which knows
    the hidden width of the form it was trained in (for FLOPs on that
    basis: the energy meter's ``--flops-basis trained`` asks
    :meth:`trained_hidden_width`). Its weights are a plain conv's."""

    def __init__(self, in_channels: int, out_channels: int,
                 trained_hidden: int):
        super().__init__(in_channels, out_channels, 3, padding=1, bias=True)
        self.trained_hidden = int(trained_hidden)

    def trained_hidden_width(self) -> int:
        return self.trained_hidden


class RepConv(nn.Module):
    """Re-parameterisable conv: 1x1 conv, BN-and-pad, 3x3 depthwise conv,
    1x1 conv, BN; no bias (keys ``body.0``, ``body.1.bn``, ``body.2.{0,1,2}``).

    Args:
        in_channels (int): input channels (also the hidden width).
        out_channels (int): output channels.
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, in_channels, out_channels, norm_cfg=None):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            BNAndPad(in_channels, pad_pixels=1, norm_cfg=norm_cfg),
            nn.Sequential(
                nn.Conv2d(in_channels, in_channels, 3, padding=0,
                          groups=in_channels, bias=False),
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                build_norm(norm_cfg, out_channels)))

    def forward(self, x):
        return self.body(x)

    def _parts(self, bn_after=None):
        """The convs and BNs as affines: (conv1, dw, pw, a1, b1, a, b) with
        BN1(u) = a1 u + b1 (b1 is also the pad value) and the BN after the
        pointwise conv (merged with ``bn_after``) as a u + b."""
        conv1, bnpad, (dw, pw, bn2) = self.body[0], self.body[1], self.body[2]
        a1, b1 = bn_affine(bnpad.bn)
        a, b = bn_affine(bn2)
        if bn_after is not None:
            a3, b3 = bn_affine(bn_after)
            a, b = a * a3, b * a3 + b3
        return conv1, dw, pw, a1, b1, a, b

    @torch.no_grad()
    def fuse_dense(self, bn_after: Optional[nn.Module] = None) -> nn.Conv2d:
        """This RepConv (+ an optional BN after it) as one 3x3 conv with a
        bias: the paper's deploy form (fewest ops, best on GPUs)."""
        conv1, dw, pw, a1, b1, a, b = self._parts(bn_after)
        w1 = conv1.weight[:, :, 0, 0]  # [C, Cin]
        d = dw.weight[:, 0]  # [C, 3, 3]
        w2 = pw.weight[:, :, 0, 0]  # [Cout, C]
        # K[o, i, y, x] = a[o] sum_c w2[o, c] d[c, y, x] a1[c] w1[c, i]
        k = torch.einsum('oc,cyx,c,ci->oiyx', w2, d, a1, w1) * \
            a.view(-1, 1, 1, 1)
        bias = a * (w2 @ (b1 * d.sum((1, 2)))) + b
        fused = FusedRepConv(conv1.in_channels, pw.out_channels,
                             conv1.out_channels).to(k)
        fused.weight.copy_(k)
        fused.bias.copy_(bias)
        return fused

    @torch.no_grad()
    def fuse_factorised(self, bn_after: Optional[nn.Module] = None
                        ) -> nn.Sequential:
        """This RepConv (+ an optional BN after it) as 1x1 conv, 3x3
        depthwise conv, 1x1 conv with every BN folded in: exact like
        :meth:`fuse_dense` with a third of its multiply-adds (for CPUs)."""
        conv1, dw, pw, a1, b1, a, b = self._parts(bn_after)
        c, cout = conv1.out_channels, pw.out_channels
        first = nn.Conv2d(conv1.in_channels, c, 1, bias=False).to(
            conv1.weight)
        first.weight.copy_(conv1.weight * a1.view(-1, 1, 1, 1))
        # padding BN1's output with b1 = padding the bias-free output with
        # zero, then adding b1 x (sum of the 3x3 taps) everywhere
        depthwise = nn.Conv2d(c, c, 3, padding=1, groups=c,
                              bias=True).to(dw.weight)
        depthwise.weight.copy_(dw.weight)
        depthwise.bias.copy_(b1 * dw.weight.sum((1, 2, 3)))
        last = nn.Conv2d(c, cout, 1, bias=True).to(pw.weight)
        last.weight.copy_(pw.weight * a.view(-1, 1, 1, 1))
        last.bias.copy_(b)
        return nn.Sequential(first, depthwise, last)

    def fuse(self, form: Union[bool, str] = 'dense',
             bn_after: Optional[nn.Module] = None) -> nn.Module:
        """The deploy form ``form`` (see :data:`REP_CONV_FORMS`)."""
        return getattr(self, REP_CONV_FORMS[parse_deploy_form(form)])(
            bn_after)


def rep_conv_bn(dim: int, norm_cfg: Optional[dict] = None
                ) -> nn.Sequential:
    """RepConv followed by one more BN: the paper's q/k/v/proj projection
    (two BNs in a row, both kept for checkpoint compatibility)."""
    return nn.Sequential(RepConv(dim, dim, norm_cfg),
                         build_norm(norm_cfg, dim))


class SepConv(nn.Module):
    """Spiking inverted separable conv, the token mixer of the conv stages:
    SN, 1x1 conv (dim -> 2dim) + BN, SN, 7x7 dwconv, 1x1 conv (2dim -> dim) + BN.

    Args:
        dim (int): channels in and out.
        expansion_ratio (float): hidden width / ``dim``. Defaults to 2.
        kernel_size (int): of the depthwise conv. Defaults to 7.
        pre_neuron (bool): start with a neuron (membrane shortcut); False
            when the input is already spikes.
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, dim, expansion_ratio=2, kernel_size=7,
                 pre_neuron=True, neuron_cfg=None, norm_cfg=None):
        super().__init__()
        med = int(expansion_ratio * dim)
        self.lif1 = maybe_neuron(pre_neuron, neuron_cfg)
        self.pwconv1 = nn.Conv2d(dim, med, 1, bias=False)
        self.bn1 = build_norm(norm_cfg, med)
        self.lif2 = build_neuron(neuron_cfg)
        self.dwconv = nn.Conv2d(med, med, kernel_size, padding=kernel_size // 2,
                                groups=med, bias=False)
        self.pwconv2 = nn.Conv2d(med, dim, 1, bias=False)
        self.bn2 = build_norm(norm_cfg, dim)

    def switch_to_deploy(self, form='dense'):
        fold_bn_pairs(self, (('pwconv1', 'bn1'), ('pwconv2', 'bn2')))

    def forward(self, x):
        T = x.shape[0]
        x = self.lif1(x)
        x = unfold_time(self.bn1(self.pwconv1(fold_time(x))), T)
        x = self.lif2(x)
        x = self.bn2(self.pwconv2(self.dwconv(fold_time(x))))
        return unfold_time(x, T)


class MSConvBlock(nn.Module):
    """Conv-based spiking block (paper: ``MS_ConvBlock``):
    ``x = x + SepConv(x)``; ``x = x + BN(conv3x3(SN(BN(conv3x3(SN(x))))))``.

    Args:
        dim (int): channels in and out.
        mlp_ratio (float): hidden width of the conv MLP / ``dim``.
        shortcut (str): ``'ms'``, ``'sew'`` or ``'vanilla'`` (module
            docstring).
        drop_path (float): stochastic depth of both branches.
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, dim, mlp_ratio=4, shortcut='ms', drop_path=0.,
                 neuron_cfg=None, norm_cfg=None):
        super().__init__()
        pre = shortcut == 'ms'
        hidden = int(dim * mlp_ratio)
        self.shortcut = shortcut
        self.Conv = SepConv(dim, pre_neuron=pre, neuron_cfg=neuron_cfg,
                            norm_cfg=norm_cfg)
        self.lif1 = maybe_neuron(pre, neuron_cfg)
        self.conv1 = nn.Conv2d(dim, hidden, 3, padding=1, bias=False)
        self.bn1 = build_norm(norm_cfg, hidden)
        self.lif2 = build_neuron(neuron_cfg)
        self.conv2 = nn.Conv2d(hidden, dim, 3, padding=1, bias=False)
        self.bn2 = build_norm(norm_cfg, dim)
        self.out_lif1 = maybe_neuron(not pre, neuron_cfg)
        self.out_lif2 = maybe_neuron(not pre, neuron_cfg)
        self.drop_path = TemporalDropPath(drop_path)
        self.with_cp = False  # checkpoint the branches (run_branch)

    def switch_to_deploy(self, form='dense'):
        fold_bn_pairs(self, (('conv1', 'bn1'), ('conv2', 'bn2')))

    def channel_mlp(self, x):
        T = x.shape[0]
        x = unfold_time(self.bn1(self.conv1(fold_time(self.lif1(x)))), T)
        x = self.bn2(self.conv2(fold_time(self.lif2(x))))
        return unfold_time(x, T)

    def forward(self, x):
        x = residual(x, run_branch(self, self.Conv, x, self.Conv),
                     self.shortcut, self.out_lif1, self.drop_path)
        mlp = run_branch(self, self.channel_mlp, x, self.lif1, self.lif2)
        return residual(x, mlp, self.shortcut, self.out_lif2, self.drop_path)
