"""Deploy-time re-parameterisation: fold every BatchNorm into its conv and
collapse each RepConv (with the BN after it) into one 3x3 conv.

The BN-and-pad design of the paper's RepConv exists for this: padding the
BN output with the value BN gives for a zero input makes

    BN3(BN2(pw(dw3x3(pad(BN1(conv1x1(x)))))))

exactly one 3x3 convolution with zero padding and a bias. The fused model
computes the same function as the trained one in eval mode (to float
rounding: tested at 1e-5 in fp32), with fewer, larger ops. It is for
inference only: the fused layers have no BatchNorm to train.

Two forms of RepConv (``rep_conv``):

* ``'dense'`` (default, the paper's deploy form): one dense 3x3 conv. Fewest
  ops, best on GPUs, but a dense 3x3 conv has 9x the multiply-adds of the
  1x1 convs it replaces: on a CPU, where FLOPs are the limit, it is slower.
* ``'factorised'``: every BN folded, the RepConv kept as 1x1 conv -> 3x3
  depthwise conv (zero padding, the BN pad value folded into its bias) ->
  1x1 conv; exact as well, and the fastest form on a CPU.

Which form is fastest depends on the device and the number type, so it is
chosen by measurement (:data:`FASTEST_REP_CONV`, ``rep_conv='auto'``).
:func:`prepare_inference` makes the fastest inference model: deployed,
``channels_last`` on a CPU, weights in the inference dtype.
"""
from typing import Union

import torch
import torch.nn as nn
from spikingjelly.activation_based import functional

from torch.nn.utils.fusion import fuse_conv_bn_eval

from .layers import BNAndPad, RepConv


def _bn_affine(bn):
    """Per-channel (scale, shift) of an eval-mode BatchNorm."""
    std = torch.sqrt(bn.running_var + bn.eps)
    w = bn.weight if bn.affine else torch.ones_like(std)
    b = bn.bias if bn.affine else torch.zeros_like(std)
    scale = w / std
    return scale, b - bn.running_mean * scale


def _rep_conv_parts(rep, bn_after):
    """The convs of a RepConv and its BNs as affines: (conv1, dw, pw, a1, b1,
    a, b) with BN1(u) = a1 u + b1 (b1 is also the pad value) and the BN after
    the pointwise conv (merged with ``bn_after``) as a u + b."""
    conv1, bnpad, (dw, pw, bn2) = rep.body[0], rep.body[1], rep.body[2]
    assert isinstance(bnpad, BNAndPad) and bnpad.pad_pixels == 1
    a1, b1 = _bn_affine(bnpad.bn)
    a, b = _bn_affine(bn2)
    if bn_after is not None:
        a3, b3 = _bn_affine(bn_after)
        a, b = a * a3, b * a3 + b3
    return conv1, dw, pw, a1, b1, a, b


@torch.no_grad()
def fuse_rep_conv(rep, bn_after=None):
    """RepConv (+ an optional BN after it) -> one 3x3 conv with bias."""
    conv1, dw, pw, a1, b1, a, b = _rep_conv_parts(rep, bn_after)
    w1 = conv1.weight[:, :, 0, 0]  # [C, Cin]
    d = dw.weight[:, 0]  # [C, 3, 3]
    w2 = pw.weight[:, :, 0, 0]  # [Cout, C]
    # K[o, i, y, x] = a[o] sum_c w2[o, c] d[c, y, x] a1[c] w1[c, i]
    k = torch.einsum('oc,cyx,c,ci->oiyx', w2, d, a1, w1) * a.view(-1, 1, 1, 1)
    bias = a * (w2 @ (b1 * d.sum((1, 2)))) + b
    fused = nn.Conv2d(conv1.in_channels, pw.out_channels, 3, padding=1,
                      bias=True).to(k)
    fused.weight.copy_(k)
    fused.bias.copy_(bias)
    return fused


@torch.no_grad()
def fuse_rep_conv_factorised(rep, bn_after=None):
    """RepConv (+ an optional BN after it) -> 1x1 conv, 3x3 depthwise conv,
    1x1 conv, with every BN folded in: exact like :func:`fuse_rep_conv`
    with a third of its multiply-adds (for the CPU)."""
    conv1, dw, pw, a1, b1, a, b = _rep_conv_parts(rep, bn_after)
    c, cout = conv1.out_channels, pw.out_channels
    first = nn.Conv2d(conv1.in_channels, c, 1, bias=False).to(conv1.weight)
    first.weight.copy_(conv1.weight * a1.view(-1, 1, 1, 1))
    # padding BN1's output with b1 = padding the bias-free output with zero,
    # then adding b1 x (sum of the 3x3 taps) everywhere
    depthwise = nn.Conv2d(c, c, 3, padding=1, groups=c,
                          bias=True).to(dw.weight)
    depthwise.weight.copy_(dw.weight)
    depthwise.bias.copy_(b1 * dw.weight.sum((1, 2, 3)))
    last = nn.Conv2d(c, cout, 1, bias=True).to(pw.weight)
    last.weight.copy_(pw.weight * a.view(-1, 1, 1, 1))
    last.bias.copy_(b)
    return nn.Sequential(first, depthwise, last)


REP_CONV_FORMS = {'dense': fuse_rep_conv,
                  'factorised': fuse_rep_conv_factorised}

# The fastest RepConv form per (device type, dtype), measured with
# ``tools/analysis_tools/benchmark.py --rep-conv dense|factorised`` (15M,
# 224 px, batch 4, channels_last; README "Speed"). On a 2-core Xeon with
# AVX512-BF16/AMX, 2026-11-29, T=1: fp32 factorised 12.3 vs dense 8.9
# img/s, bf16 41.9 vs 26.7; T=4 bf16 5.8 vs 4.5; exported to OpenVINO,
# bf16, T=1: 37-55 vs 28-30 img/s. GPUs: dense, the paper's
# deploy form (fewest kernels; not measured here, no GPU was at hand).
FASTEST_REP_CONV = {
    ('cpu', 'fp32'): 'factorised',
    ('cpu', 'bf16'): 'factorised',
    ('cuda', 'fp32'): 'dense',
    ('cuda', 'bf16'): 'dense',
    ('cuda', 'fp16'): 'dense',
}


def fastest_rep_conv(device='cpu', dtype='fp32'):
    """The measured fastest RepConv form for ``device`` and ``dtype``."""
    key = (torch.device(device).type, dtype)
    if key not in FASTEST_REP_CONV:
        raise ValueError(f'no measured RepConv form for device {key[0]!r} '
                         f'and dtype {dtype!r}; pass rep_conv=\'dense\' or '
                         f'\'factorised\' (measured: '
                         f'{sorted(FASTEST_REP_CONV)})')
    return FASTEST_REP_CONV[key]


def _is_bn(m):
    return isinstance(m, nn.modules.batchnorm._BatchNorm)


def _parse_form(form):
    if form is True:
        form = 'dense'
    if form not in REP_CONV_FORMS:
        raise ValueError(f'deploy form (rep_conv) must be True or one of '
                         f'{sorted(REP_CONV_FORMS)}, got {form!r}')
    return form


# conv -> BN pairs folded in each layer type (BN after the conv it follows)
def _conv_bn_pairs(m):
    from .layers import (MSConvBlock, SepConv, SpikingDownsample,
                         SpikingMLP)
    if isinstance(m, SepConv):
        return (('pwconv1', 'bn1'), ('pwconv2', 'bn2'))
    if isinstance(m, MSConvBlock):
        return (('conv1', 'bn1'), ('conv2', 'bn2'))
    if isinstance(m, SpikingMLP):
        return (('fc1_conv', 'fc1_bn'), ('fc2_conv', 'fc2_bn'))
    if isinstance(m, SpikingDownsample):
        return (('encode_conv', 'encode_bn'), )
    return ()


@torch.no_grad()
def deploy_backbone(backbone: nn.Module, form: Union[bool, str] = 'dense'):
    """Fold, in place, every BatchNorm of ``backbone``'s spiking layers into
    its conv and each RepConv (+ its BN) of the attention projections into
    the form ``form`` (``True``/``'dense'`` or ``'factorised'``, see the
    module docstring). BN statistics are used as they are (eval mode).
    ``MetaSpikeFormer.switch_to_deploy`` calls this."""
    from .layers import SpikingSelfAttention
    fuse_rep = REP_CONV_FORMS[_parse_form(form)]
    backbone.eval()
    for m in list(backbone.modules()):
        if isinstance(m, SpikingSelfAttention):
            for name in ('q_conv', 'k_conv', 'v_conv', 'proj_conv'):
                seq = getattr(m, name)
                if isinstance(seq, nn.Sequential) and len(seq) == 2 and \
                        isinstance(seq[0], RepConv) and _is_bn(seq[1]):
                    setattr(m, name, fuse_rep(seq[0], seq[1]))
        for conv_name, bn_name in _conv_bn_pairs(m):
            bn = getattr(m, bn_name)
            if _is_bn(bn):
                # exact: torch's own folding of an eval BN into its conv
                setattr(m, conv_name,
                        fuse_conv_bn_eval(getattr(m, conv_name), bn))
                setattr(m, bn_name, nn.Identity())
    functional.invalidate_reset_cache(backbone)
    return backbone


def switch_to_deploy(model: nn.Module, rep_conv: Union[bool, str] = 'dense'):
    """Re-parameterise every Meta-SpikeFormer backbone in ``model`` (a whole
    classifier, detector or segmentor, or the backbone itself) for
    inference, in place; returns ``model`` in eval mode.

    Args:
        rep_conv (str | bool): ``'dense'`` (one 3x3 conv; ``True`` means
            the same, as in ``MetaSpikeFormer(deploy=True)``) or
            ``'factorised'`` (1x1, depthwise 3x3, 1x1; fastest on CPUs). See
            the module docstring.
    """
    from .backbones import MetaSpikeFormer
    form = _parse_form(rep_conv)
    model.eval()
    backbones = [m for m in model.modules() if isinstance(m, MetaSpikeFormer)]
    if not backbones:
        raise ValueError('switch_to_deploy: the model has no MetaSpikeFormer')
    for m in backbones:
        m.switch_to_deploy(form)
    return model


INFERENCE_DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16,
                    'fp16': torch.float16}


def prepare_inference(model: nn.Module, device: str = 'cpu',
                      dtype: str = 'fp32', rep_conv: str = 'auto',
                      channels_last: Union[bool, None] = None):
    """The fastest inference form of a model, in place; returns it.

    1. :func:`switch_to_deploy` with the RepConv form measured fastest for
       ``device`` and ``dtype`` (``rep_conv='auto'``, :data:`FASTEST_REP_CONV`);
    2. ``channels_last`` (default: on a CPU): every 4-D weight in NHWC, and
       the backbone converts its input once, so every conv, neuron and
       attention product of the backbone runs in that layout with no
       conversion between layers;
    3. weights cast to ``dtype`` (``'bf16'``/``'fp16'``): the backbone casts
       its input once, so nothing is cast between layers (autocast would
       cast every weight at every call). For a whole classifier; mm's
       detection/segmentation post-processing expects fp32, so use
       autocast for those.

    fp32 stays exact (1e-5 against the trained model, tested); bf16
    agreement is measured on the demo sets (README).
    """
    if dtype not in INFERENCE_DTYPES:
        raise ValueError(f'dtype must be one of {sorted(INFERENCE_DTYPES)}, '
                         f'got {dtype!r}')
    if rep_conv == 'auto':
        rep_conv = fastest_rep_conv(device, dtype)
    switch_to_deploy(model, rep_conv)
    if channels_last is None:
        channels_last = torch.device(device).type == 'cpu'
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if dtype != 'fp32':
        model.to(INFERENCE_DTYPES[dtype])
    return model
