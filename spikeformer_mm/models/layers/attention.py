"""Spike-driven self-attention (SDSA) and its unit-event products."""

from typing import Optional

import torch
import torch.nn as nn
from spikingjelly.activation_based.layer import SpikeCountToBinary

from ...validation import check_choice
from ..neurons import ATTENTION_THRESHOLD, build_neuron
from .time_axis import is_channels_last, fold_time, unfold_time
from .fusing import is_bn
from .residual import maybe_neuron
from .conv import RepConv, rep_conv_bn


ATTENTIONS = ('sdsa_v2', 'sdsa_v1')


def unit_event_matmul(a: torch.Tensor, b: torch.Tensor, slots: int,
                      scale: float = 1.0, a_counts: bool = True,
                      b_counts: bool = True) -> torch.Tensor:
    """``a @ b`` where the operands flagged as counts (values ``k / scale``,
    ``k`` in ``0..slots``) are expanded into their ``slots`` binary unit
    events (spikingjelly's ``SpikeCountToBinary``) and the products of
    every pair summed: the same result, computed with a 0/1 operand in
    every product (the binary form of integer-spike attention). ``scale``
    (a power of two in every model here) keeps the division exact."""
    to_slots = SpikeCountToBinary(slots, always_convert=True)

    def events(x, counts):
        return to_slots((x * scale).unsqueeze(0)) if counts else \
            x.unsqueeze(0)

    y = (events(a, a_counts).unsqueeze(1) @
         events(b, b_counts).unsqueeze(0)).sum((0, 1))
    n = int(a_counts) + int(b_counts)
    return y / scale ** n if scale != 1.0 and n else y


class SpikingSelfAttention(nn.Module):
    """Spike-driven self-attention (SDSA), paper Eq. (7)-(9).

    ``'sdsa_v2'`` (default, ``MS_Attention_RepConv_qkv_id``): ``Q, K, V`` are
    spikes of ``BN(RepConv(x))``; ``SN_0.5(Q (K^T V) * scale)`` with 8 heads,
    computed as ``K^T V`` first so the cost is linear in the tokens N.
    ``'sdsa_v1'`` (Spike-driven Transformer V1): ``Q * SN_0.5(sum_N(K * V))``,
    linear in N and C; it reuses the same projections.

    Args:
        dim (int): channels in and out.
        num_heads (int): attention heads (``dim`` must divide by it).
        scale (float): the fixed scale of the V2 form, 0.125 in the paper.
            It assumes ImageNet-sized token grids (14x14); on small images
            the attention neuron rarely reaches its threshold, so small
            models may need a larger value (deviation from the paper, off by
            default).
        attention (str): ``'sdsa_v2'`` or ``'sdsa_v1'``.
        pre_neuron (bool): start with a neuron (membrane shortcut).
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, dim, num_heads=8, scale=0.125, attention='sdsa_v2',
                 pre_neuron=True, neuron_cfg=None, norm_cfg=None):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'embed dim {dim} is not divisible by '
                             f'num_heads={num_heads}')
        check_choice('attention', attention, ATTENTIONS)
        self.dim, self.num_heads = dim, num_heads
        self.scale = float(scale)
        self.attention = attention
        self.head_lif = maybe_neuron(pre_neuron, neuron_cfg)
        self.q_conv = rep_conv_bn(dim, norm_cfg)
        self.k_conv = rep_conv_bn(dim, norm_cfg)
        self.v_conv = rep_conv_bn(dim, norm_cfg)
        self.q_lif = build_neuron(neuron_cfg)
        self.k_lif = build_neuron(neuron_cfg)
        self.v_lif = build_neuron(neuron_cfg)
        self.attn_lif = build_neuron(neuron_cfg, v_threshold=ATTENTION_THRESHOLD)
        self.proj_conv = rep_conv_bn(dim, norm_cfg)
        # D of integer (I-LIF) Q, K, V run as binary slots (set by
        # spikeformer_mm.deploy.expand_to_binary), or None
        self.binary_slots = None

    def switch_to_deploy(self, form='dense'):
        """Each projection (RepConv + the BN after it) in the RepConv form
        ``form``."""
        for name in ('q_conv', 'k_conv', 'v_conv', 'proj_conv'):
            seq = getattr(self, name)
            if isinstance(seq, nn.Sequential) and len(seq) == 2 and \
                    isinstance(seq[0], RepConv) and is_bn(seq[1]):
                setattr(self, name, seq[0].fuse(form, seq[1]))

    def _heads(self, x):
        # [T, B, C, H, W] -> [T, B, heads, N, C/heads]
        T, B, C = x.shape[:3]
        return x.flatten(3).transpose(-1, -2).reshape(
            T, B, -1, self.num_heads, C // self.num_heads).permute(0, 1, 3, 2, 4)

    def use_unit_events(self, slots: int, scale: float = 1.0) -> None:
        """Compute the attention products over unit events (the binary
        form of integer Q, K, V of at most ``slots`` counts each, valued
        ``count / scale``): :func:`unit_event_matmul`."""
        self.binary_slots, self.count_scale = int(slots), float(scale)

    def unit_event_slots(self) -> Optional[int]:
        """D when the products run over unit events (integer Q, K, V of at
        most D counts, :meth:`use_unit_events`), else None (asked by the
        energy meter)."""
        return self.binary_slots

    def binary_products(self, q, k, v):
        """``Q (K^T V)``. With integer counts (after
        :meth:`use_unit_events`), the same products over unit events: each
        count ``C = sum_d S_d`` (the thermometer slots ``S_d = [C > d]``),
        so ``K^T V = sum_{d,e} K_d^T V_e`` (one accumulate per pair of
        co-active unit events) and ``Q M = sum_d Q_d M`` (one accumulate
        of a row of ``M`` per unit event of ``Q``): exactly the integer
        products, computed with binary operands only."""
        if not self.binary_slots:
            return q @ (k.transpose(-2, -1) @ v)
        D, s = self.binary_slots, getattr(self, 'count_scale', 1.0)
        kv = unit_event_matmul(k.transpose(-2, -1), v, D, s)
        return unit_event_matmul(q, kv, D, s, b_counts=False)

    def forward(self, x):
        T, B, C, H, W = x.shape
        x = fold_time(self.head_lif(x))
        q = self.q_lif(unfold_time(self.q_conv(x), T))
        k = self.k_lif(unfold_time(self.k_conv(x), T))
        v = self.v_lif(unfold_time(self.v_conv(x), T))
        if self.attention == 'sdsa_v2':
            q, k, v = self._heads(q), self._heads(k), self._heads(v)
            y = self.binary_products(q, k, v) * self.scale
            if is_channels_last(x):  # tokens back to NHWC, no transpose
                y = y.transpose(2, 3).reshape(T, B, H, W, C).permute(
                    0, 1, 4, 2, 3)
            else:
                y = y.transpose(3, 4).reshape(T, B, C, H, W)
            y = self.attn_lif(y)
        else:
            kv = (k * v).flatten(3).sum(-1, keepdim=True)  # [T, B, C, 1]
            y = q * self.attn_lif(kv).unsqueeze(-1)
        return unfold_time(self.proj_conv(fold_time(y)), T)
