"""Layers of E-SpikeFormer (Spike-driven Transformer V3, Yao et al., TPAMI
2025; BICLab/Spike-Driven-Transformer-V3 at 00fcd1f), where V3's arithmetic
differs from V2's (:mod:`spikeformer_mm.models.layers`). V3's downsampling
and channel MLP are V2's with V3's neuron, and are V2's modules here
(``SpikingDownsample``, ``SpikingMLP``).

Every activation is ``[T, B, C, H, W]`` (V3's base models run at T=1; its
large models keep a time axis and flatten tokens, ``[T, B, C, N]``, for the
same per-position arithmetic). Every neuron is ``neuron_cfg``'s, V3's
``MultiSpike`` in its configs (:mod:`.neurons.multispike`). Sub-module
names follow V3's code, so its checkpoints map onto these modules with a
few renames (``tools/model_converters/sdtv3_to_mm.py``).

Where V3 differs from V2:

* ``SepConvSpike`` (base): a neuron before the second pointwise conv too,
  and BatchNorm after the depthwise conv (V2's ``SepConv`` feeds real
  values to ``pwconv2``).
* ``ESConvBlock`` (base): that SepConv, then V2's 3x3 conv MLP.
* ``LinearSpikingAttention`` (base, ``MS_Attention_linear``): 1x1 conv
  projections (no RepConv), V four times wider, ``(Q K^T) V`` scaled by
  ``2 / sqrt(head dim)`` (V2: ``Q (K^T V)`` x 0.125).
* ``ESBlock`` (base): ``x + SepConvSpike_3x3(x)``, then attention and MLP.
* ``ESLargeConvBlock`` (large): SN, 3x3 conv (with bias) + BN, twice, no
  SepConv.
* ``RepSpikingAttention`` (large, ``MS_Attention_Conv_qkv_id``): each
  projection two 1x1 convs (``dim -> 1.5 dim -> dim``) with BNs, then a BN;
  ``Q (K^T V)`` x 0.125.
* ``ESLargeBlock`` (large): for the 83M (``rep_conv``) first ``x +
  conv1x1_bn(conv1x1_bn(SN(x)))``, then attention and MLP each scaled per
  channel (layer scale).
"""
from typing import Optional

import torch
import torch.nn as nn

from .layers import (SpikingMLP, TemporalDropPath, build_norm, fold_bn,
                     fold_time, is_bn, unfold_time, unit_event_matmul)
from .neurons import build_neuron


def conv_bn(in_ch: int, out_ch: int, kernel_size: int = 1, groups: int = 1,
            bias: bool = False, norm_cfg: Optional[dict] = None
            ) -> nn.Sequential:
    """Conv (``padding = kernel_size // 2``) then BatchNorm (``norm_cfg``,
    as V2's layers), as V3's ``nn.Sequential(conv, bn)`` (keys
    ``.0.weight``, ``.1.*``)."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2,
                  groups=groups, bias=bias),
        build_norm(norm_cfg, out_ch))


def fold_conv_bn(seq: nn.Sequential) -> None:
    """Fold, in place, every (conv, BN) pair of ``seq`` (a BN that follows
    an already folded conv included); each BN becomes an ``nn.Identity``."""
    mods = list(seq)
    for i in range(1, len(mods)):
        prev, bn = mods[i - 1], mods[i]
        if is_bn(bn) and isinstance(prev, nn.Conv2d):
            seq[i - 1] = fold_bn(prev, bn)
            seq[i] = nn.Identity()
            mods = list(seq)


def _run(seq: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``seq`` on ``[T, B, ...]`` with time folded into the batch."""
    return unfold_time(seq(fold_time(x)), x.shape[0])


class SepConvSpike(nn.Module):
    """V3's ``SepConv_Spike``: SN, 1x1 conv + BN (dim -> 2 dim), SN,
    depthwise conv + BN, SN, 1x1 conv + BN (2 dim -> dim)."""

    def __init__(self, dim: int, expansion_ratio: int = 2,
                 kernel_size: int = 7, neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        med = int(expansion_ratio * dim)
        self.spike1 = build_neuron(neuron_cfg)
        self.pwconv1 = conv_bn(dim, med, norm_cfg=norm_cfg)
        self.spike2 = build_neuron(neuron_cfg)
        self.dwconv = conv_bn(med, med, kernel_size, groups=med,
                              norm_cfg=norm_cfg)
        self.spike3 = build_neuron(neuron_cfg)
        self.pwconv2 = conv_bn(med, dim, norm_cfg=norm_cfg)

    def switch_to_deploy(self, form='dense'):
        for seq in (self.pwconv1, self.dwconv, self.pwconv2):
            fold_conv_bn(seq)

    def forward(self, x):
        x = _run(self.pwconv1, self.spike1(x))
        x = _run(self.dwconv, self.spike2(x))
        return _run(self.pwconv2, self.spike3(x))


class ESConvBlock(nn.Module):
    """V3's ``MS_ConvBlock_spike_SepConv``: ``x = x + SepConvSpike(x)``;
    ``x = x + BN(conv3x3(SN(BN(conv3x3(SN(x))))))``."""

    def __init__(self, dim: int, mlp_ratio: int = 4, drop_path: float = 0.,
                 neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.Conv = SepConvSpike(dim, kernel_size=7, neuron_cfg=neuron_cfg,
                                 norm_cfg=norm_cfg)
        self.spike1 = build_neuron(neuron_cfg)
        self.conv1 = nn.Conv2d(dim, hidden, 3, padding=1, bias=False)
        self.bn1 = build_norm(norm_cfg, hidden)
        self.spike2 = build_neuron(neuron_cfg)
        self.conv2 = nn.Conv2d(hidden, dim, 3, padding=1, bias=False)
        self.bn2 = build_norm(norm_cfg, dim)
        self.drop_path = TemporalDropPath(drop_path)

    def switch_to_deploy(self, form='dense'):
        for conv, bn in (('conv1', 'bn1'), ('conv2', 'bn2')):
            if is_bn(getattr(self, bn)):
                setattr(self, conv, fold_bn(getattr(self, conv),
                                            getattr(self, bn)))
                setattr(self, bn, nn.Identity())

    def forward(self, x):
        T = x.shape[0]
        x = x + self.drop_path(self.Conv(x))
        y = unfold_time(self.bn1(self.conv1(fold_time(self.spike1(x)))), T)
        y = unfold_time(self.bn2(self.conv2(fold_time(self.spike2(y)))), T)
        return x + self.drop_path(y)


def _heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``[T, B, C, H, W]`` -> ``[T, B, heads, N, C / heads]``."""
    T, B, C = x.shape[:3]
    return x.flatten(3).transpose(-1, -2).reshape(
        T, B, -1, num_heads, C // num_heads).permute(0, 1, 3, 2, 4)


def _merge_heads(y: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """``[T, B, heads, N, d]`` -> ``[T, B, heads * d, H, W]``."""
    T, B = y.shape[:2]
    return y.transpose(3, 4).reshape(T, B, -1, H, W)


class _UnitEventProducts:
    """The attention products of integer Q, K, V, in the binary form once
    :meth:`use_unit_events` was called (as V2's attention: every product
    has a 0/1 operand, :func:`~.layers.unit_event_matmul`)."""
    binary_slots = None
    count_scale = 1.0

    def use_unit_events(self, slots: int, scale: float = 1.0) -> None:
        self.binary_slots, self.count_scale = int(slots), float(scale)

    def unit_event_slots(self):
        """D when the products run over unit events, else None (asked by
        the energy meter)."""
        return self.binary_slots

    def matmul(self, a, b, a_counts=True, b_counts=True):
        if not self.binary_slots:
            return a @ b
        return unit_event_matmul(a, b, self.binary_slots, self.count_scale,
                                 a_counts, b_counts)


class LinearSpikingAttention(_UnitEventProducts, nn.Module):
    """V3's ``MS_Attention_linear`` (base models): SN, 1x1 conv + BN
    projections (V ``v_ratio`` times wider), SNs, ``(Q K^T) V x 2 /
    sqrt(head dim)``, SN, 1x1 conv + BN back to ``dim``."""

    def __init__(self, dim: int, num_heads: int = 8, v_ratio: int = 4,
                 scale: Optional[float] = None,
                 neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'embed dim {dim} is not divisible by '
                             f'num_heads={num_heads}')
        self.num_heads = num_heads
        # V3's: twice the usual 1 / sqrt(head dim)
        self.scale = (dim // num_heads) ** -0.5 * 2 if scale is None \
            else float(scale)
        self.head_spike = build_neuron(neuron_cfg)
        self.q_conv = conv_bn(dim, dim, norm_cfg=norm_cfg)
        self.k_conv = conv_bn(dim, dim, norm_cfg=norm_cfg)
        self.v_conv = conv_bn(dim, dim * v_ratio, norm_cfg=norm_cfg)
        self.q_spike = build_neuron(neuron_cfg)
        self.k_spike = build_neuron(neuron_cfg)
        self.v_spike = build_neuron(neuron_cfg)
        self.attn_spike = build_neuron(neuron_cfg)
        self.proj_conv = conv_bn(dim * v_ratio, dim, norm_cfg=norm_cfg)

    def switch_to_deploy(self, form='dense'):
        for seq in (self.q_conv, self.k_conv, self.v_conv, self.proj_conv):
            fold_conv_bn(seq)

    def forward(self, x):
        H, W = x.shape[-2:]
        x = self.head_spike(x)
        q, k, v = (_heads(spike(_run(conv, x)), self.num_heads)
                   for conv, spike in ((self.q_conv, self.q_spike),
                                       (self.k_conv, self.k_spike),
                                       (self.v_conv, self.v_spike)))
        qk = self.matmul(q, k.transpose(-2, -1))
        y = self.matmul(qk, v, a_counts=False) * self.scale
        y = self.attn_spike(_merge_heads(y, H, W))
        return _run(self.proj_conv, y)


class ESBlock(nn.Module):
    """V3's ``MS_Block_Spike_SepConv`` (base models): ``x + SepConvSpike
    (3x3)``, ``x + LinearSpikingAttention``, ``x + MLP``."""

    def __init__(self, dim: int, num_heads: int = 8, mlp_ratio: int = 4,
                 drop_path: float = 0., neuron_cfg: Optional[dict] = None,
                 attn_scale: Optional[float] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.conv = SepConvSpike(dim, kernel_size=3, neuron_cfg=neuron_cfg,
                                 norm_cfg=norm_cfg)
        self.attn = LinearSpikingAttention(dim, num_heads, scale=attn_scale,
                                           neuron_cfg=neuron_cfg,
                                           norm_cfg=norm_cfg)
        self.mlp = SpikingMLP(dim, int(dim * mlp_ratio),
                              neuron_cfg=neuron_cfg, norm_cfg=norm_cfg)
        self.drop_path = TemporalDropPath(drop_path)

    def forward(self, x):
        x = x + self.drop_path(self.conv(x))
        x = x + self.drop_path(self.attn(x))
        return x + self.drop_path(self.mlp(x))


# ------------------------------------------------------------ large models
class ESLargeConvBlock(nn.Module):
    """V3's large ``MS_ConvBlock``: ``x + BN(conv3x3(SN(BN(conv3x3(SN(x))))))``
    with biased convs (no SepConv)."""

    def __init__(self, dim: int, mlp_ratio: int = 4, drop_path: float = 0.,
                 neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.neuron1 = build_neuron(neuron_cfg)
        self.conv1 = conv_bn(dim, dim * mlp_ratio, 3, bias=True,
                             norm_cfg=norm_cfg)
        self.neuron2 = build_neuron(neuron_cfg)
        self.conv2 = conv_bn(dim * mlp_ratio, dim, 3, bias=True,
                             norm_cfg=norm_cfg)
        self.drop_path = TemporalDropPath(drop_path)

    def switch_to_deploy(self, form='dense'):
        fold_conv_bn(self.conv1)
        fold_conv_bn(self.conv2)

    def forward(self, x):
        y = _run(self.conv1, self.neuron1(x))
        return x + self.drop_path(_run(self.conv2, self.neuron2(y)))


class ConvBNPair(nn.Module):
    """Two 1x1 convs with BNs (V3's large ``RepConv``/``RepConv2``, Conv1d
    on tokens there): ``conv2(conv1(x))``, each ``Sequential(conv, bn)``."""

    def __init__(self, in_ch: int, hidden: int, out_ch: int,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.conv1 = conv_bn(in_ch, hidden, norm_cfg=norm_cfg)
        self.conv2 = conv_bn(hidden, out_ch, norm_cfg=norm_cfg)

    def switch_to_deploy(self, form='dense'):
        fold_conv_bn(self.conv1)
        fold_conv_bn(self.conv2)

    def forward(self, x):
        return self.conv2(self.conv1(x))


def pair_bn(dim: int, hidden: int, norm_cfg: Optional[dict] = None
            ) -> nn.Sequential:
    """A projection of the large attention: ConvBNPair then one more BN."""
    return nn.Sequential(ConvBNPair(dim, hidden, dim, norm_cfg),
                         build_norm(norm_cfg, dim))


def fold_pair_bn(seq: nn.Sequential) -> None:
    """Fold the BN after a (folded) :class:`ConvBNPair` into its last conv."""
    pair, bn = seq[0], seq[1]
    pair.switch_to_deploy()
    if is_bn(bn):
        pair.conv2[0] = fold_bn(pair.conv2[0], bn)
        seq[1] = nn.Identity()


class RepSpikingAttention(_UnitEventProducts, nn.Module):
    """V3's ``MS_Attention_Conv_qkv_id`` (large models): SN, projections of
    two 1x1 convs (``dim -> 1.5 dim -> dim``) + BN, SNs, ``Q (K^T V) x
    scale``, SN, projection."""

    def __init__(self, dim: int, num_heads: int = 8, scale: float = 0.125,
                 neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'embed dim {dim} is not divisible by '
                             f'num_heads={num_heads}')
        self.num_heads, self.scale = num_heads, float(scale)
        hidden = int(dim * 1.5)
        self.head_lif = build_neuron(neuron_cfg)
        self.q_conv = pair_bn(dim, hidden, norm_cfg)
        self.k_conv = pair_bn(dim, hidden, norm_cfg)
        self.v_conv = pair_bn(dim, hidden, norm_cfg)
        self.q_lif = build_neuron(neuron_cfg)
        self.k_lif = build_neuron(neuron_cfg)
        self.v_lif = build_neuron(neuron_cfg)
        self.attn_lif = build_neuron(neuron_cfg)
        self.proj_conv = pair_bn(dim, hidden, norm_cfg)

    def switch_to_deploy(self, form='dense'):
        for seq in (self.q_conv, self.k_conv, self.v_conv, self.proj_conv):
            fold_pair_bn(seq)

    def forward(self, x):
        H, W = x.shape[-2:]
        x = self.head_lif(x)
        q, k, v = (_heads(lif(_run(conv, x)), self.num_heads)
                   for conv, lif in ((self.q_conv, self.q_lif),
                                     (self.k_conv, self.k_lif),
                                     (self.v_conv, self.v_lif)))
        kv = self.matmul(k.transpose(-2, -1), v)
        y = self.matmul(q, kv, b_counts=False) * self.scale
        y = self.attn_lif(_merge_heads(y, H, W))
        return _run(self.proj_conv, y)


class ESLargeBlock(nn.Module):
    """V3's large ``MS_Block``: with ``rep_conv`` (the 83M) first ``x +
    ConvBNPair(SN(x))``; then ``x + ls1 * attn(x)``, ``x + ls2 * mlp(x)``
    with per-channel layer scales (V3 initialises them at 1e-6)."""

    def __init__(self, dim: int, num_heads: int = 8, mlp_ratio: int = 4,
                 rep_conv: bool = True, layer_scale_init: float = 1e-6,
                 drop_path: float = 0., neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if rep_conv:
            self.lif = build_neuron(neuron_cfg)
            self.rep_conv = ConvBNPair(dim, dim, dim, norm_cfg)
        self.attn = RepSpikingAttention(dim, num_heads,
                                        neuron_cfg=neuron_cfg,
                                        norm_cfg=norm_cfg)
        self.mlp = SpikingMLP(dim, int(dim * mlp_ratio),
                              neuron_cfg=neuron_cfg, norm_cfg=norm_cfg)
        self.layer_scale1 = nn.Parameter(torch.full((dim, ),
                                                    layer_scale_init))
        self.layer_scale2 = nn.Parameter(torch.full((dim, ),
                                                    layer_scale_init))
        self.drop_path = TemporalDropPath(drop_path)

    def forward(self, x):
        if hasattr(self, 'rep_conv'):
            x = x + _run(self.rep_conv, self.lif(x))
        scale = (self.layer_scale1.view(-1, 1, 1),
                 self.layer_scale2.view(-1, 1, 1))
        x = x + self.drop_path(self.attn(x) * scale[0])
        return x + self.drop_path(self.mlp(x) * scale[1])
