import copy

import pytest
import torch

from spikeformer_mm.models import MetaSpikeFormer
from spikeformer_mm.models.neurons import is_neuron
from helpers import TINY_ARCH

TINY = TINY_ARCH


@pytest.mark.parametrize('arch,count', [('15M', 14_751_208),
                                        ('31M', 30_852_864),
                                        ('55M', 54_709_248)])
def test_parameter_counts(arch, count):
    m = MetaSpikeFormer(arch=arch)
    assert sum(p.numel() for p in m.parameters()) == count


def test_taps_shapes_and_strides():
    m = MetaSpikeFormer(arch=TINY, T=2, out_indices=(0, 1, 2, 3, 4)).eval()
    x = torch.rand(1, 3, 64, 64)
    outs = m(x)
    assert len(outs) == 5
    for o, c, s in zip(outs, m.out_channels, m.out_strides):
        assert o.shape == (2, 1, c, 64 // s, 64 // s)
    assert m.out_strides == (2, 4, 8, 16, 16)
    assert m.out_channels == (8, 16, 32, 64, 80)
    m2 = MetaSpikeFormer(arch=TINY, T=1, out_indices=(4, 1), last_stride=2)
    o4, o1 = m2.eval()(x)
    assert o4.shape[-1] == 2 and o1.shape[-1] == 16
    # out_* follow out_indices (what forward returns); tap_* list all taps
    assert m2.out_strides == (32, 4) and m2.out_channels == (80, 16)
    assert m2.tap_strides == (2, 4, 8, 16, 32)
    assert m2.feature_info == [
        dict(num_chs=80, reduction=32, module='block4'),
        dict(num_chs=16, reduction=4, module='ConvBlock1_2')]


def test_arch_settings_are_complete_and_dict_archs_default_to_them():
    for name, arch in MetaSpikeFormer.arch_settings.items():
        assert set(arch) == {'embed_dims', 'depths', 'num_heads',
                             'mlp_ratio'}, name
    m = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 80], depths=(1, 1)))
    assert len(m.block3) == 1 and len(m.block4) == 1
    assert len(MetaSpikeFormer(arch=TINY).block3) == 6
    with pytest.raises(ValueError, match='num_heads'):
        MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 60, 80]))


def test_frozen_stages_follow_the_layout():
    m = MetaSpikeFormer(arch=TINY, frozen_stages=3).train()
    frozen = {n.split('.')[0] for n, p in m.named_parameters()
              if not p.requires_grad}
    assert frozen == {'downsample1_1', 'ConvBlock1_1', 'downsample1_2',
                      'ConvBlock1_2', 'downsample2', 'ConvBlock2_1',
                      'ConvBlock2_2'}
    assert not m.downsample2.encode_bn.training and m.block3.training
    assert all(p.requires_grad for p in
               MetaSpikeFormer(arch=TINY, frozen_stages=-1).parameters())
    with pytest.raises(ValueError, match='frozen_stages'):
        MetaSpikeFormer(arch=TINY, frozen_stages=6)


def test_state_reset_between_forwards():
    m = MetaSpikeFormer(arch=TINY, T=2).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        a = m(x)[0]
        m(torch.rand(2, 3, 32, 32) * 5)
        b = m(x)[0]
    assert torch.equal(a, b)


def test_two_backwards():
    m = MetaSpikeFormer(arch=TINY, T=2).train()
    for _ in range(2):
        m(torch.rand(2, 3, 32, 32))[0].sum().backward()
    assert m.downsample1_1.encode_conv.weight.grad is not None


def test_with_cp_matches_plain():
    # norm_eval: BN in train mode on an untrained net at 32x32 sees silent
    # neurons and its gradients overflow, which would make this meaningless
    torch.manual_seed(0)
    a = MetaSpikeFormer(arch=TINY, T=2, norm_eval=True).train()
    b = MetaSpikeFormer(arch=TINY, T=2, with_cp=True, norm_eval=True).train()
    b.load_state_dict(a.state_dict())
    x = torch.rand(2, 3, 32, 32)
    ya, yb = a(x)[0], b(x)[0]
    assert torch.allclose(ya, yb)
    ya.square().sum().backward()
    yb.square().sum().backward()
    ga = a.downsample1_1.encode_conv.weight.grad
    gb = b.downsample1_1.encode_conv.weight.grad
    assert ga.abs().sum() > 0
    assert torch.allclose(ga, gb, rtol=1e-4, atol=1e-6)


def _peak_step_mb(model, x):
    """Most tensor memory live in one forward + backward (profiler)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) \
            as prof:
        model(x)[0].square().sum().backward()
    live = peak = 0
    for _, n in sorted((e.start_ns(), e.nbytes())
                       for e in prof.profiler.kineto_results.events()
                       if e.name() == '[memory]'):
        live += n
        peak = max(peak, live)
    return peak / 2**20


def test_with_cp_is_passed_to_blocks_and_frees_memory():
    from spikeformer_mm.models.layers import MSBlock, MSConvBlock
    torch.manual_seed(0)
    m = MetaSpikeFormer(arch=TINY, T=2, norm_eval=True).train()
    blocks = [b for b in m.modules() if isinstance(b, (MSBlock, MSConvBlock))]
    assert blocks and not any(b.with_cp for b in blocks)
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    m(x)[0].square().sum().backward()  # warm-up
    plain = _peak_step_mb(m, x)
    m.with_cp = True
    assert all(b.with_cp for b in blocks)
    cp_peak = _peak_step_mb(m, x)
    # after backward no neuron state holds a recomputed graph
    assert all(isinstance(n.v, float) for b in blocks for n in b.modules()
               if is_neuron(n))
    assert cp_peak < 0.6 * plain, (cp_peak, plain)


def test_frozen_stages_and_norm_eval():
    m = MetaSpikeFormer(arch=TINY, frozen_stages=2, norm_eval=True)
    m.train()
    assert not any(p.requires_grad for p in m.downsample1_2.parameters())
    assert not any(p.requires_grad for p in m.ConvBlock1_2.parameters())
    assert all(p.requires_grad for p in m.downsample2.parameters())
    assert not m.block3[0].attn.q_conv[1].training  # norm_eval
    assert m.block3[0].training


def test_drop_path_applies_in_training_only():
    torch.manual_seed(0)
    m = MetaSpikeFormer(arch=TINY, T=2, drop_path_rate=0.9)
    x = torch.rand(4, 3, 32, 32)
    m.eval()
    with torch.no_grad():
        e1, e2 = m(x)[0], m(x)[0]
    assert torch.equal(e1, e2)
    m.train()
    with torch.no_grad():
        t1, t2 = m(x)[0], m(x)[0]
    assert not torch.equal(t1, t2)
    dp = m.block4[-1].drop_path
    assert dp.drop_prob == pytest.approx(0.9)


@pytest.mark.parametrize('shortcut', ['sew', 'vanilla'])
def test_spike_shortcuts(shortcut):
    m = MetaSpikeFormer(arch=TINY, T=2, shortcut=shortcut,
                        out_indices=(1, 4)).eval()
    o1, o4 = m(torch.rand(2, 3, 32, 32))
    if shortcut == 'vanilla':  # SN(F(s) + s): binary spikes
        assert set(o4.unique().tolist()) <= {0., 1.}
    else:  # SN(F(s)) + s: non-negative integers
        assert torch.equal(o4, o4.round()) and o4.min() >= 0
    # the branch has no leading neuron: its input is already spikes
    assert not is_neuron(m.block3[0].attn.head_lif)
    assert is_neuron(MetaSpikeFormer(arch=TINY).block3[0].attn.head_lif)


def _attention_by_hand(attn, x, form, scale=0.125):
    """The SDSA formulas of docs/model.md, written out with the module's
    parts."""
    from spikingjelly.activation_based import functional
    functional.reset_net(attn)
    T, B, C, H, W = x.shape
    s = attn.head_lif(x).flatten(0, 1)
    q, k, v = (lif(conv(s).reshape(T, B, C, H, W)) for conv, lif in (
        (attn.q_conv, attn.q_lif), (attn.k_conv, attn.k_lif),
        (attn.v_conv, attn.v_lif)))
    if form == 'sdsa_v2':
        h = attn.num_heads
        split = lambda t: t.flatten(3).reshape(T, B, h, C // h, H * W)  # noqa
        qh, kh, vh = split(q), split(k), split(v)  # [T,B,h,d,N]
        # y[n, d] = sum_d' q[n, d'] sum_m k[m, d'] v[m, d]
        kv = torch.einsum('tbhcm,tbhdm->tbhcd', kh, vh)
        y = torch.einsum('tbhcn,tbhcd->tbhdn', qh, kv) * scale
        y = attn.attn_lif(y.reshape(T, B, C, H, W))
    else:
        kv = (k * v).sum((3, 4), keepdim=True)
        y = q * attn.attn_lif(kv)
    functional.reset_net(attn)
    return attn.proj_conv(y.flatten(0, 1)).reshape(T, B, C, H, W)


@pytest.mark.parametrize('form,scale', [('sdsa_v2', 0.125), ('sdsa_v2', 1.0),
                                        ('sdsa_v1', 0.125)])
def test_attention_forms_by_hand(form, scale):
    from spikingjelly.activation_based import functional
    from spikeformer_mm.models.layers import SpikingSelfAttention
    torch.manual_seed(0)
    attn = SpikingSelfAttention(32, 8, scale=scale, attention=form).eval()
    for conv in (attn.q_conv, attn.k_conv, attn.v_conv):  # ~half fire
        conv[1].bias.data.uniform_(0, 3)
    x = torch.rand(2, 1, 32, 14, 14) * 6
    functional.reset_net(attn)
    with torch.no_grad():
        y = attn(x)
        ref = _attention_by_hand(attn, x, form, scale)
    assert torch.allclose(y, ref, atol=1e-5)
    # the attention neuron fires at all, so the check is not vacuous
    functional.reset_net(attn)
    fired = []
    h = attn.attn_lif.register_forward_hook(
        lambda m, i, o: fired.append(o.mean().item()))
    with torch.no_grad():
        attn(x)
    h.remove()
    assert 0 < fired[0] < 1


@pytest.mark.parametrize('kwargs,match', [
    (dict(arch='99M'), 'Unknown arch'),
    (dict(arch=dict(embed_dims=[16, 32, 60, 80])), 'divisible'),
    (dict(arch=dict(embed_dims=[16, 32, 64])), 'embed_dims'),
    (dict(T=0), 'T must be'),
    (dict(out_indices=(5, )), 'out_indices'),
    (dict(shortcut='residual'), 'shortcut'),
    (dict(attention='softmax'), 'attention'),
])
def test_bad_arguments(kwargs, match):
    kw = dict(arch=TINY)
    kw.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MetaSpikeFormer(**kw)


def test_bad_inputs():
    m = MetaSpikeFormer(arch=TINY, T=2).eval()
    with pytest.raises(ValueError, match='shape'):
        m(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match='channels'):
        m(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match='time steps'):
        m(torch.rand(3, 1, 3, 32, 32))
    assert m(torch.rand(2, 1, 3, 32, 32))[0].shape[0] == 2


def test_encoder_of_a_static_image_runs_once():
    """At T > 1 a static image's encoding conv runs once (its output copied
    to the T steps): the same outputs, gradients and BN statistics as
    running it at every step (a materialised [T, B, ...] input)."""
    from helpers import TINY_ARCH
    from spikeformer_mm.models import MetaSpikeFormer
    torch.manual_seed(0)
    # the first tap: a short path, whose gradients are not chaotic
    a = MetaSpikeFormer(arch=TINY_ARCH, T=2, out_indices=(0, ))
    b = copy.deepcopy(a)
    x = torch.rand(2, 3, 32, 32)
    calls = []
    a.downsample1_1.encode_conv.register_forward_hook(
        lambda m, i, o: calls.append(i[0].shape[0]))
    out_a = a(x)[-1]
    out_b = b(x.unsqueeze(0).repeat(2, 1, 1, 1, 1))[-1]
    assert calls == [2]  # one run on the B=2 images, not on T*B=4
    assert torch.allclose(out_a, out_b, atol=1e-6)
    w = torch.randn_like(out_a)
    (out_a * w).sum().backward()
    (out_b * w).sum().backward()
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        if q.grad is not None:  # to float rounding (summed in another order)
            assert (p.grad - q.grad).norm() <= 1e-4 * q.grad.norm() + 1e-3, n
    bn_a, bn_b = a.downsample1_1.encode_bn, b.downsample1_1.encode_bn
    assert torch.allclose(bn_a.running_mean, bn_b.running_mean, atol=1e-6)
    assert torch.allclose(bn_a.running_var, bn_b.running_var, atol=1e-5)


def test_norm_cfg_reaches_every_norm_and_must_fold():
    """``norm_cfg`` (mmcv's norm config, as mmpretrain's layers take it)
    builds every norm of the backbone; a norm that cannot fold into a conv
    at deployment is refused, naming the choices."""
    import torch.nn as nn

    from spikeformer_mm.models.backbones import MetaSpikeFormer
    demo = dict(embed_dims=[16, 32, 64, 128])
    bns = [m for m in MetaSpikeFormer(arch=demo).modules()
           if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    sync = [m for m in MetaSpikeFormer(
        arch=demo, norm_cfg=dict(type='SyncBN')).modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert len(sync) == len(bns) > 0
    assert all(isinstance(m, nn.SyncBatchNorm) for m in sync)
    assert all(type(m) is nn.BatchNorm2d for m in bns)
    with pytest.raises(ValueError, match=r"norm_cfg type must be one of "
                       r"\('BN', 'BN2d', 'SyncBN'\).*got 'GN'"):
        MetaSpikeFormer(arch=demo, norm_cfg=dict(type='GN', num_groups=2))


@pytest.mark.parametrize('family,arch', [
    ('ESpikeFormer', dict(embed_dims=[8, 16, 32, 40])),
    ('ESpikeFormerLarge', dict(embed_dims=[16, 32, 64], depth=2))])
def test_v3_families_take_norm_cfg_too(family, arch):
    import torch.nn as nn

    from spikeformer_mm.models import backbones
    cls = getattr(backbones, family)
    norms = [m for m in cls(arch=arch, norm_cfg=dict(type='SyncBN'))
             .modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms and all(isinstance(m, nn.SyncBatchNorm) for m in norms)
    assert len(norms) == sum(
        isinstance(m, nn.modules.batchnorm._BatchNorm)
        for m in cls(arch=arch).modules())
