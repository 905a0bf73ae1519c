"""Spiking layers of Meta-SpikeFormer (Yao et al., ICLR 2024).

Every activation is ``[T, B, C, H, W]``; convolutions and BatchNorms run on
``[T*B, ...]`` (time folded into the batch, so BN statistics are shared over
time steps). Sub-module names follow the paper's official code so that its
checkpoints map onto these modules key by key (docs/model.md, "Blocks").

Shortcuts (paper, Sec. 4 / Table 5). For a branch ``F``:

* ``'ms'`` (membrane shortcut, default): ``x + F(x)``, ``F`` starts with a
  neuron; the residual stream is real valued.
* ``'sew'`` (spike-element-wise): ``SN(F(s)) + s``.
* ``'vanilla'``: ``SN(F(s) + s)``.

In the two spike shortcuts the branch drops its leading neuron (its input
is already spikes) and each block ends with a neuron.
"""
from typing import Callable, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from spikingjelly.activation_based import functional
from spikingjelly.activation_based.layer import SpikeCountToBinary
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from .neurons import ATTENTION_THRESHOLD, build_neuron

SHORTCUTS = ('ms', 'sew', 'vanilla')
ATTENTIONS = ('sdsa_v2', 'sdsa_v1')


def is_channels_last(x: torch.Tensor) -> bool:
    """True for a ``[..., C, H, W]`` tensor laid out channels last (NHWC):
    what a ``channels_last`` model runs on (``[T, B, C, H, W]`` included)."""
    return x.dim() >= 4 and x.shape[-3] > 1 and x.stride(-3) == 1 and \
        x.stride(-1) == x.shape[-3]


def fold_time(x: torch.Tensor) -> torch.Tensor:
    """``[T, B, ...] -> [T*B, ...]``, keeping a channels-last layout (an
    image expanded over T is copied once into NHWC, not into NCHW as
    ``flatten`` would)."""
    if x.dim() == 5 and x.stride(0) == 0 and x.shape[0] > 1 and \
            is_channels_last(x):
        out = torch.empty((x.shape[0] * x.shape[1], ) + x.shape[2:],
                          dtype=x.dtype, device=x.device,
                          memory_format=torch.channels_last)
        out.view(x.shape).copy_(x)
        return out
    return x.flatten(0, 1)


def unfold_time(x: torch.Tensor, T: int) -> torch.Tensor:
    """``[T*B, ...] -> [T, B, ...]``."""
    return x.reshape(T, -1, *x.shape[1:])


def check_time_axis(x: torch.Tensor, who: str, what: str,
                    layout: str = '[T, B, C, H, W]',
                    use: Optional[str] = None) -> None:
    """Raise a ``ValueError`` naming ``who`` and ``what`` unless ``x`` is a
    5-D tensor with time first (``layout``); ``use`` names what would give
    it one."""
    if x.dim() != 5:
        raise ValueError(f'{who}: {what} has shape {tuple(x.shape)}; '
                         f'expected {layout}' +
                         (f' (use {use})' if use else ''))


# --------------------------------------------------------- strict loading
# (its own module; re-exported here, where callers have always found it)
from .strict_loading import (IncompleteWeightsError,  # noqa: E402,F401
                             fits_loaded_shape, lenient_loading,
                             require_complete_weights)


# ------------------------------------------------------------- deployment
# Every layer that has BatchNorms to fold or a RepConv to collapse owns a
# ``switch_to_deploy(form)`` (the name mmpretrain's re-parameterisation
# calls); it changes only its own direct sub-layers and is idempotent, so
# :func:`spikeformer_mm.deploy.switch_to_deploy` may call every such layer
# of a model in turn. ``form`` is the RepConv form (:data:`REP_CONV_FORMS`).

def is_bn(m: Optional[nn.Module]) -> bool:
    return isinstance(m, nn.modules.batchnorm._BatchNorm)


@torch.no_grad()
def fold_bn(layer: nn.Module, bn: nn.Module) -> nn.Module:
    """``layer`` followed by the eval-mode BatchNorm ``bn`` as one layer with
    a bias (torch's own exact folding): a conv, transposed conv or linear."""
    if isinstance(layer, nn.ConvTranspose2d):
        return fuse_conv_bn_eval(layer, bn, transpose=True)
    if isinstance(layer, nn.Conv2d):
        return fuse_conv_bn_eval(layer, bn)
    if isinstance(layer, nn.Linear):
        return fuse_linear_bn_eval(layer, bn)
    raise TypeError(f'cannot fold a BatchNorm into a {type(layer).__name__}')


def fold_bn_pairs(module: nn.Module, pairs) -> None:
    """Fold, in place, each ``(layer name, BN name)`` pair of ``module``;
    the BN becomes an ``nn.Identity`` (so a second call does nothing)."""
    for layer_name, bn_name in pairs:
        bn = getattr(module, bn_name)
        if is_bn(bn):
            setattr(module, layer_name,
                    fold_bn(getattr(module, layer_name), bn))
            setattr(module, bn_name, nn.Identity())


def parse_deploy_form(form: Union[bool, str]) -> str:
    """``True`` means ``'dense'`` (the paper's form); else a name of
    :data:`REP_CONV_FORMS`."""
    if form is True:
        form = 'dense'
    if form not in REP_CONV_FORMS:
        raise ValueError(f'deploy form (rep_conv) must be True or one of '
                         f'{sorted(REP_CONV_FORMS)}, got {form!r}')
    return form


def check_channels(x: torch.Tensor, in_channels: Sequence[int], i: int,
                   who: str) -> None:
    """Raise a ``ValueError`` unless level ``i`` (``[T, B, C, ...]``) has the
    ``in_channels[i]`` channels the module was built for."""
    if i >= len(in_channels) or x.shape[2] != in_channels[i]:
        want = in_channels[i] if i < len(in_channels) else 'no level'
        raise ValueError(f'{who}: level {i} has {x.shape[2]} channels, but '
                         f'in_channels={list(in_channels)} gives {want}: '
                         f'set in_channels to the backbone\'s out_channels')


class TemporalDropPath(nn.Module):
    """Stochastic depth for ``[T, B, ...]`` tensors.

    mmcv's ``DropPath`` draws one mask entry per element of dim 0, which here
    is time; a sample must be dropped at every time step alike, so the mask
    is drawn over dim 1 (the batch).

    Args:
        drop_prob (float): probability of dropping a sample's branch.
    """

    def __init__(self, drop_prob=0.):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x):
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1. - self.drop_prob
        shape = (1, x.shape[1]) + (1, ) * (x.dim() - 2)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self):
        return f'drop_prob={self.drop_prob}'


def residual(x: torch.Tensor, branch_out: torch.Tensor, shortcut: str,
             out_neuron: nn.Module, drop_path: nn.Module) -> torch.Tensor:
    """Add a branch to its input under one of the three shortcuts."""
    if shortcut == 'ms':
        return x + drop_path(branch_out)
    if shortcut == 'sew':
        return drop_path(out_neuron(branch_out)) + x
    return out_neuron(drop_path(branch_out) + x)


def run_branch(block: nn.Module, fn: Callable, x: torch.Tensor,
               *modules: nn.Module) -> torch.Tensor:
    """``fn(x)``, under gradient checkpointing when ``block.with_cp`` is set
    while training: only ``x`` is kept and ``fn`` runs again in backward,
    after the neurons of ``modules`` are reset to the state they started
    from. Checkpointing per branch (token mixer, channel MLP) rather than
    per block bounds the peak by the largest branch: in the first conv
    block one block's activations are most of the model's.
    (As in mmcv's ``with_cp``, BatchNorm running statistics are updated in
    the recomputation too.)"""
    if not (block.with_cp and block.training
            and x.requires_grad and torch.is_grad_enabled()):
        return fn(x)

    def again(inp):
        for m in modules:
            functional.reset_net(m)
        out = fn(inp)
        # a neuron's state after the branch would hold the recomputed graph
        # (and its saved tensors) until the next forward: drop it
        for m in modules:
            functional.reset_net(m)
        return out

    # no early stop: the recomputation must reach the resets at its end
    with cp.set_checkpoint_early_stop(False):
        return cp.checkpoint(again, x, use_reentrant=False)


def _maybe_neuron(enabled, neuron_cfg, **kw):
    return build_neuron(neuron_cfg, **kw) if enabled else nn.Identity()


class BNAndPad(nn.Module):
    """BatchNorm whose output is padded with the value BN gives for zero input.

    Padding with ``bias - mean * weight / sqrt(var + eps)`` instead of zero
    makes ``1x1 conv -> BN -> pad -> 3x3 dwconv`` exactly equal to one 3x3
    conv after re-parameterisation (the RepConv design of the paper).

    Args:
        num_features (int): channels.
        pad_pixels (int): border width added on each side.
        eps, momentum (float): of the BatchNorm.
    """

    def __init__(self, num_features, pad_pixels=1, eps=1e-5, momentum=0.1):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum)
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


class RepConv(nn.Module):
    """Re-parameterisable conv: 1x1 conv, BN-and-pad, 3x3 depthwise conv,
    1x1 conv, BN; no bias (keys ``body.0``, ``body.1.bn``, ``body.2.{0,1,2}``).

    Args:
        in_channels (int): input channels (also the hidden width).
        out_channels (int): output channels.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            BNAndPad(in_channels, pad_pixels=1),
            nn.Sequential(
                nn.Conv2d(in_channels, in_channels, 3, padding=0,
                          groups=in_channels, bias=False),
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels)))

    def forward(self, x):
        return self.body(x)

    def _parts(self, bn_after=None):
        """The convs and BNs as affines: (conv1, dw, pw, a1, b1, a, b) with
        BN1(u) = a1 u + b1 (b1 is also the pad value) and the BN after the
        pointwise conv (merged with ``bn_after``) as a u + b."""
        conv1, bnpad, (dw, pw, bn2) = self.body[0], self.body[1], self.body[2]
        a1, b1 = _bn_affine(bnpad.bn)
        a, b = _bn_affine(bn2)
        if bn_after is not None:
            a3, b3 = _bn_affine(bn_after)
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
        fused = nn.Conv2d(conv1.in_channels, pw.out_channels, 3, padding=1,
                          bias=True).to(k)
        fused.weight.copy_(k)
        fused.bias.copy_(bias)
        # the width of the trained form, for FLOPs on that basis (the energy
        # meter's --flops-basis trained)
        fused.rep_conv_hidden = conv1.out_channels
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


def _bn_affine(bn):
    """Per-channel (scale, shift) of an eval-mode BatchNorm."""
    std = torch.sqrt(bn.running_var + bn.eps)
    w = bn.weight if bn.affine else torch.ones_like(std)
    b = bn.bias if bn.affine else torch.zeros_like(std)
    scale = w / std
    return scale, b - bn.running_mean * scale


# The two deploy forms of a RepConv: ``'dense'``, the paper's (one 3x3
# conv: fewest ops, best on GPUs, but 9x the multiply-adds of the 1x1 convs
# it replaces, so slower where FLOPs are the limit), and ``'factorised'``
# (1x1, depthwise 3x3, 1x1, every BN folded; exact too, fastest on CPUs).
REP_CONV_FORMS = {'dense': 'fuse_dense', 'factorised': 'fuse_factorised'}


def rep_conv_bn(dim: int) -> nn.Sequential:
    """RepConv followed by one more BN: the paper's q/k/v/proj projection
    (two BNs in a row, both kept for checkpoint compatibility)."""
    return nn.Sequential(RepConv(dim, dim), nn.BatchNorm2d(dim))


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
    """

    def __init__(self, dim, expansion_ratio=2, kernel_size=7,
                 pre_neuron=True, neuron_cfg=None):
        super().__init__()
        med = int(expansion_ratio * dim)
        self.lif1 = _maybe_neuron(pre_neuron, neuron_cfg)
        self.pwconv1 = nn.Conv2d(dim, med, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(med)
        self.lif2 = build_neuron(neuron_cfg)
        self.dwconv = nn.Conv2d(med, med, kernel_size, padding=kernel_size // 2,
                                groups=med, bias=False)
        self.pwconv2 = nn.Conv2d(med, dim, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim)

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
    """

    def __init__(self, dim, mlp_ratio=4, shortcut='ms', drop_path=0.,
                 neuron_cfg=None):
        super().__init__()
        pre = shortcut == 'ms'
        hidden = int(dim * mlp_ratio)
        self.shortcut = shortcut
        self.Conv = SepConv(dim, pre_neuron=pre, neuron_cfg=neuron_cfg)
        self.lif1 = _maybe_neuron(pre, neuron_cfg)
        self.conv1 = nn.Conv2d(dim, hidden, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.lif2 = build_neuron(neuron_cfg)
        self.conv2 = nn.Conv2d(hidden, dim, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim)
        self.out_lif1 = _maybe_neuron(not pre, neuron_cfg)
        self.out_lif2 = _maybe_neuron(not pre, neuron_cfg)
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
    """

    def __init__(self, dim, num_heads=8, scale=0.125, attention='sdsa_v2',
                 pre_neuron=True, neuron_cfg=None):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'embed dim {dim} is not divisible by '
                             f'num_heads={num_heads}')
        if attention not in ATTENTIONS:
            raise ValueError(f'attention must be one of {ATTENTIONS}, '
                             f'got {attention!r}')
        self.dim, self.num_heads = dim, num_heads
        self.scale = float(scale)
        self.attention = attention
        self.head_lif = _maybe_neuron(pre_neuron, neuron_cfg)
        self.q_conv = rep_conv_bn(dim)
        self.k_conv = rep_conv_bn(dim)
        self.v_conv = rep_conv_bn(dim)
        self.q_lif = build_neuron(neuron_cfg)
        self.k_lif = build_neuron(neuron_cfg)
        self.v_lif = build_neuron(neuron_cfg)
        self.attn_lif = build_neuron(neuron_cfg, v_threshold=ATTENTION_THRESHOLD)
        self.proj_conv = rep_conv_bn(dim)
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


class SpikingMLP(nn.Module):
    """Channel MLP of the transformer blocks (paper: ``MS_MLP``): SN, 1x1
    conv (with bias) + BN, SN, 1x1 conv + BN.

    The paper runs Conv1d/BN1d on tokens ``[T*B, C, N]``; here the same 1x1
    convs and BNs run as Conv2d/BN2d on ``[T*B, C, H, W]`` (the same
    arithmetic and statistics), because PyTorch copies any non-contiguous
    Conv1d input to NCHW: a ``channels_last`` model would convert layouts
    twice per MLP. The paper's ``[out, in, 1]`` conv weights load as they
    are (a trailing axis is added).

    Args:
        dim (int): channels in and out.
        hidden_dim (int): hidden channels.
        pre_neuron (bool): start with a neuron (membrane shortcut).
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
    """

    def __init__(self, dim, hidden_dim, pre_neuron=True, neuron_cfg=None):
        super().__init__()
        self.fc1_lif = _maybe_neuron(pre_neuron, neuron_cfg)
        self.fc1_conv = nn.Conv2d(dim, hidden_dim, 1)
        self.fc1_bn = nn.BatchNorm2d(hidden_dim)
        self.fc2_lif = build_neuron(neuron_cfg)
        self.fc2_conv = nn.Conv2d(hidden_dim, dim, 1)
        self.fc2_bn = nn.BatchNorm2d(dim)

    @staticmethod
    def from_paper_weight(key, w):
        """A weight of the paper's MLP (``...mlp.fc{1,2}_conv.weight``,
        Conv1d ``[out, in, 1]``) in this module's Conv2d shape; any other
        entry is returned as it is."""
        if torch.is_tensor(w) and w.dim() == 3 and \
                key.endswith(('mlp.fc1_conv.weight', 'mlp.fc2_conv.weight')):
            return w.unsqueeze(-1)
        return w

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ('fc1_conv', 'fc2_conv'):
            key = f'{prefix}{name}.weight'
            if key in state_dict:
                state_dict[key] = self.from_paper_weight(
                    'mlp.' + name + '.weight', state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def switch_to_deploy(self, form='dense'):
        fold_bn_pairs(self, (('fc1_conv', 'fc1_bn'), ('fc2_conv', 'fc2_bn')))

    def forward(self, x):
        T = x.shape[0]
        x = fold_time(self.fc1_lif(x))
        x = unfold_time(self.fc1_bn(self.fc1_conv(x)), T)
        x = self.fc2_bn(self.fc2_conv(fold_time(self.fc2_lif(x))))
        return unfold_time(x, T)


class MSBlock(nn.Module):
    """Transformer-based spiking block (paper: ``MS_Block``):
    ``x = x + SDSA(x)``; ``x = x + MLP(x)``.

    Args:
        dim (int): channels in and out.
        num_heads (int): attention heads.
        mlp_ratio (float): hidden width of the MLP / ``dim``.
        shortcut (str): ``'ms'``, ``'sew'`` or ``'vanilla'``.
        attention (str): ``'sdsa_v2'`` or ``'sdsa_v1'``.
        attn_scale (float): see :class:`SpikingSelfAttention`.
        drop_path (float): stochastic depth of both branches.
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
    """

    def __init__(self, dim, num_heads=8, mlp_ratio=4, shortcut='ms',
                 attention='sdsa_v2', attn_scale=0.125, drop_path=0.,
                 neuron_cfg=None):
        super().__init__()
        pre = shortcut == 'ms'
        self.shortcut = shortcut
        self.attn = SpikingSelfAttention(
            dim, num_heads, scale=attn_scale, attention=attention,
            pre_neuron=pre, neuron_cfg=neuron_cfg)
        self.mlp = SpikingMLP(dim, int(dim * mlp_ratio), pre_neuron=pre,
                              neuron_cfg=neuron_cfg)
        self.out_lif1 = _maybe_neuron(not pre, neuron_cfg)
        self.out_lif2 = _maybe_neuron(not pre, neuron_cfg)
        self.drop_path = TemporalDropPath(drop_path)
        self.with_cp = False  # checkpoint the branches (run_branch)

    def forward(self, x):
        x = residual(x, run_branch(self, self.attn, x, self.attn),
                     self.shortcut, self.out_lif1, self.drop_path)
        return residual(x, run_branch(self, self.mlp, x, self.mlp),
                        self.shortcut, self.out_lif2, self.drop_path)


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
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=2,
                 padding=1, first_layer=False, shortcut='ms', neuron_cfg=None):
        super().__init__()
        ms = shortcut == 'ms'
        self.encode_lif = _maybe_neuron(ms and not first_layer, neuron_cfg)
        self.encode_conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                                     stride=stride, padding=padding)
        self.encode_bn = nn.BatchNorm2d(out_channels)
        self.out_lif = _maybe_neuron(not ms, neuron_cfg)

    def switch_to_deploy(self, form='dense'):
        fold_bn_pairs(self, (('encode_conv', 'encode_bn'), ))

    def forward(self, x):
        T = x.shape[0]
        if T > 1 and x.stride(0) == 0 and isinstance(self.encode_lif,
                                                     nn.Identity):
            # a static image expanded over T (MetaSpikeFormer.encode): the
            # encoding conv would see the same input at every step, so it
            # runs once and its output is copied to the T steps (in the
            # layout the next layers run in). The same values and, through
            # expand's backward, the same gradients; BN statistics of T
            # copies are those of one.
            conv = self.encode_conv
            conv.runs_once_for_T = T  # read by the energy meter
            try:
                y = self.encode_bn(conv(x[0]))
            finally:
                del conv.runs_once_for_T
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
