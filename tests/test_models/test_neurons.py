import pytest
import torch

from spikeformer_mm.models.layers import BNAndPad, RepConv
from spikeformer_mm.models.neurons import (NEURON_DEFAULTS, build_neuron,
                                           merge_neuron_cfg)


def lif_by_hand(x, tau=2.0, vth=1.0):
    v, out = torch.zeros_like(x[0]), []
    for xt in x:
        v = v + (xt - v) / tau
        s = (v >= vth).to(x.dtype)
        v = v * (1 - s)
        out.append(s)
    return torch.stack(out)


def test_lif_dynamics_match_the_paper():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 5) * 2
    n = build_neuron()
    assert torch.equal(n(x), lif_by_hand(x))
    # known case: constant input 1.5 -> v=0.75, then 1.125 (spike, reset)...
    s = build_neuron()(torch.full((4, 1), 1.5)).flatten().tolist()
    assert s == [0., 1., 0., 1.]
    half = build_neuron(v_threshold=0.5)
    assert torch.equal(half(x), lif_by_hand(x, vth=0.5))


def test_surrogate_gradient_is_sigmoid_alpha_4():
    x = torch.tensor([[0.4]], requires_grad=True)  # v = 0.2, below threshold
    build_neuron()(x.unsqueeze(0)).sum().backward()
    sg = torch.sigmoid(torch.tensor(4 * (0.2 - 1.0)))
    expected = 4 * sg * (1 - sg) * 0.5  # d s / d v * d v / d x (1 / tau)
    assert x.grad.item() == pytest.approx(expected.item(), rel=1e-6)


def test_neuron_cfg_errors_and_defaults():
    assert NEURON_DEFAULTS['tau'] == 2.0 and NEURON_DEFAULTS['v_reset'] == 0.0
    with pytest.raises(ValueError, match='unknown keys'):
        merge_neuron_cfg(dict(tau=2.0, threshold=1.0))
    with pytest.raises(ValueError, match='surrogate'):
        build_neuron(dict(surrogate=dict(type='NoSuch')))
    assert build_neuron(dict(tau=3)).tau == 3.0


def test_bn_and_pad_border_value():
    m = BNAndPad(4).eval()
    m.bn.running_mean.uniform_()
    m.bn.running_var.uniform_(0.5, 2)
    m.bn.weight.data.uniform_()
    m.bn.bias.data.uniform_()
    y = m(torch.zeros(1, 4, 3, 3))
    assert y.shape == (1, 4, 5, 5)
    # BN of a zero input equals the pad value, so an all-zero input gives a
    # constant map: what makes RepConv fusable into one 3x3 conv
    assert torch.allclose(y, y[:, :, :1, :1].expand_as(y))
    assert RepConv(4, 6)(torch.rand(2, 4, 7, 7)).shape == (2, 6, 7, 7)


@pytest.mark.parametrize('T', [1, 2, 4])
@pytest.mark.parametrize('detach_reset,decay_input', [(True, True),
                                                      (False, True),
                                                      (True, False)])
def test_fused_cpu_path_matches_spikingjelly(T, detach_reset, decay_input):
    torch.manual_seed(T)
    cfg = dict(detach_reset=detach_reset, decay_input=decay_input)
    fused = build_neuron(dict(cfg, backend='fused', keep_final_v=True))
    ref = build_neuron(dict(cfg, backend='spikingjelly'))
    x1 = (torch.randn(T, 5, 7) * 2).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    s1, s2 = fused(x1), ref(x2)
    assert torch.equal(s1, s2)
    assert torch.allclose(fused.v, ref.v)
    w = torch.randn_like(s1)
    (s1 * w).sum().backward()
    (s2 * w).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-6)


def test_fused_path_is_used_and_falls_back():
    n = build_neuron(dict(keep_final_v=True))
    x = torch.randn(2, 3)
    calls = []
    orig = type(n).__mro__[1].multi_step_forward

    def spy(self, *a, **k):
        calls.append(1)
        return orig(self, *a, **k)
    import spikeformer_mm.models.neurons.lif as mod
    mod.neuron.LIFNode.multi_step_forward = spy
    try:
        n(x)  # fresh state: fused, spikingjelly not called
        assert calls == []
        n(x)  # state carried over (a tensor): spikingjelly's path
        assert calls == [1]
        lean = build_neuron()  # keep_final_v=False: no state is left
        s1 = lean(x)
        assert lean.v == 0.0 and torch.equal(lean(x), s1)
        assert calls == [1]
    finally:
        mod.neuron.LIFNode.multi_step_forward = orig


@pytest.mark.parametrize('cfg', [dict(), dict(decay_input=False),
                                 dict(v_reset=None), dict(v_reset=-0.2)])
def test_unrolled_lif_matches_the_neuron(cfg):
    """The plain-op recurrence that ONNX export records gives the spikes of
    the neuron it stands for (hard and soft reset, both input decays)."""
    from spikeformer_mm.models.neurons import unrolled_lif
    torch.manual_seed(0)
    node = build_neuron(dict(cfg, backend='spikingjelly'))
    x = torch.randn(4, 3, 8) * 2
    want = node(x)
    assert want.sum() > 0 and (want == 0).any()
    assert torch.equal(unrolled_lif(x, node), want)


@pytest.mark.parametrize('T', [1, 2, 4])
@pytest.mark.parametrize('cfg', [dict(), dict(decay_input=False),
                                 dict(tau=3.0), dict(v_reset=-0.2),
                                 dict(v_threshold=0.5)])
def test_lean_fused_paths_match_spikingjelly(T, cfg):
    """Without the final membrane (keep_final_v=False), with and without
    gradients, the fused neuron gives spikingjelly's spikes and gradients;
    inputs exactly at the threshold (x / tau == v_th) included, where the
    one-comparison step (T=1, tau=2) must agree bit for bit."""
    torch.manual_seed(T)
    ref = build_neuron(dict(cfg, backend='spikingjelly'))
    lean = build_neuron(cfg)
    assert lean.keep_final_v is False
    x = torch.randn(T, 6, 9) * 2
    tau = cfg.get('tau', 2.0)
    k = 1 / tau if cfg.get('decay_input', True) else 1.0
    # the first step from v_reset: h = v_r + k x
    v_r = cfg.get('v_reset', 0.0)
    at = (cfg.get('v_threshold', 1.0) - v_r) / k
    x[0, 0, :3] = torch.tensor([at, at - 1e-5, at + 1e-5])
    want = ref(x)
    with torch.no_grad():
        assert torch.equal(lean(x), want)
    if v_r == 0:  # exactly on the boundary (no rounding in v_r + k x)
        assert want[0, 0, 0] == 1 and want[0, 0, 1] == 0
    xg = x.clone().requires_grad_()
    xr = x.clone().requires_grad_()
    ref.reset()
    got, got_ref = lean(xg), ref(xr)
    assert torch.equal(got, got_ref)
    w = torch.randn_like(got)
    (got * w).sum().backward()
    (got_ref * w).sum().backward()
    assert torch.allclose(xg.grad, xr.grad, atol=1e-6)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_fused_neuron_keeps_layout_and_dtype(dtype):
    """Spikes come out in the layout and dtype the neuron was given
    (channels_last stays channels_last, bf16 stays bf16), so the next conv
    needs no conversion."""
    n = build_neuron()
    x = torch.randn(2, 3, 8, 5, 5).to(dtype)
    # a [T, B, C, H, W] sequence of channels_last frames
    x = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
    for T in (1, 2):
        with torch.no_grad():
            s = n(x[:T])
        assert s.dtype == dtype and s.stride() == x[:T].stride()
        s = n(x[:T].clone().requires_grad_())
        assert s.dtype == dtype and s.stride() == x[:T].stride()


@pytest.mark.parametrize('T', [1, 3])
def test_fused_neuron_backward_in_bf16(T):
    """bf16 potentials (what conv + BN give under CPU autocast) stay bf16
    through forward and backward: the same spikes as fp32 on the same
    values (halving by tau = 2 is exact), the gradient in bf16 and within
    bf16 rounding of the fp32 one."""
    torch.manual_seed(T)
    x = (torch.randn(T, 4, 6, 5) * 2).bfloat16()
    xb = x.clone().requires_grad_()
    xf = x.float().requires_grad_()
    n = build_neuron()
    sb = n(xb)
    sf = n(xf)
    assert sb.dtype == torch.bfloat16 and torch.equal(sb.float(), sf)
    w = torch.randn(sf.shape)
    (sb.float() * w).sum().backward()
    (sf * w).sum().backward()
    assert xb.grad.dtype == torch.bfloat16
    assert torch.allclose(xb.grad.float(), xf.grad, rtol=2e-2, atol=2e-2)


def test_neuron_type_is_honoured_and_unknown_types_refused():
    """``neuron_cfg.type`` picks the neuron from the registry (LIF by
    default); an unknown type is refused with the choices; each type has
    its own settings."""
    from spikingjelly.activation_based import neuron

    from spikeformer_mm.models.neurons import (MultiStepIF, MultiStepLIF,
                                               MultiStepParametricLIF)
    assert type(build_neuron()) is MultiStepLIF
    assert type(build_neuron(dict(type='LIF'))) is MultiStepLIF
    x = torch.rand(3, 2, 5) * 1.5
    ifn = build_neuron(dict(type='IF'))
    assert isinstance(ifn, MultiStepIF)
    ref = neuron.IFNode(step_mode='m', detach_reset=True)
    assert torch.equal(ifn(x), ref(x))
    plif = build_neuron(dict(type='PLIF', init_tau=3.0))
    assert isinstance(plif, MultiStepParametricLIF)
    assert any(True for _ in plif.parameters())  # a learnable 1/tau
    # the attention's threshold override reaches any type
    assert build_neuron(dict(type='IF'), v_threshold=0.5).v_threshold == 0.5
    with pytest.raises(ValueError, match=r"unknown neuron 'IFNode'; choose "
                       r"one of \['IF', 'ILIF', 'LIF', 'MultiSpike', 'NILIF', "
                       r"'PLIF', 'QuantAct'\]"):
        build_neuron(dict(type='IFNode'))
    with pytest.raises(ValueError, match=r"unknown keys \['tau'\] for the IF"):
        build_neuron(dict(type='IF', tau=2.0))
    with pytest.raises(ValueError, match='backend of LIF'):
        build_neuron(dict(backend='cuda'))


def test_neuron_type_reaches_every_layer_of_the_backbone():
    """A backbone built with ``neuron_cfg=dict(type='IF')`` has IF neurons
    only (the attention's at threshold 0.5)."""
    from helpers import TINY_ARCH
    from spikeformer_mm.models import MetaSpikeFormer
    from spikeformer_mm.models.neurons import MultiStepIF, is_neuron
    m = MetaSpikeFormer(arch=TINY_ARCH, neuron_cfg=dict(type='IF'))
    neurons = [n for n in m.modules() if is_neuron(n)]
    assert neurons and all(isinstance(n, MultiStepIF) for n in neurons)
    assert m.block3[0].attn.attn_lif.v_threshold == 0.5
    assert m(torch.rand(1, 3, 32, 32))[0].shape[0] == 1


@pytest.mark.parametrize('D', [2, 4])
def test_ilif_is_spikingjellys_and_counts(D):
    """``type='ILIF'``: spikingjelly's ILIFNode (counts and gradients), with
    counts 0..D per step; the attention's threshold reaches it; its counts
    are never marked as 0/1 spikes (not bit-packed)."""
    from spikingjelly.activation_based import neuron, surrogate

    from spikeformer_mm.models.neurons import MultiStepILIF
    from spikeformer_mm.models.packed_spikes import is_spikes
    torch.manual_seed(0)
    x = (torch.randn(3, 2, 7) * 3).requires_grad_()
    n = build_neuron(dict(type='ILIF', max_spike_count=D))
    assert isinstance(n, MultiStepILIF) and n.max_spike_count == D
    ref = neuron.ILIFNode(surrogate_function=surrogate.MultiLevelSpikeCount(D),
                          step_mode='m')
    x2 = x.detach().clone().requires_grad_()
    out, want = n(x), ref(x2)
    assert torch.equal(out, want)
    assert set(out.unique().tolist()) <= set(range(D + 1))
    assert out.max() == D  # large inputs saturate at D
    g = torch.randn_like(out)
    out.backward(g)
    want.backward(g)
    assert torch.equal(x.grad, x2.grad)
    assert not is_spikes(out)
    assert build_neuron(dict(type='ILIF'), v_threshold=0.5).v_threshold == 0.5
    with pytest.raises(ValueError, match='max_spike_count of ILIF'):
        build_neuron(dict(type='ILIF', max_spike_count=0))


def test_ilif_backbone_trains_with_counts():
    from helpers import TINY_ARCH
    from spikeformer_mm.models import MetaSpikeFormer
    from spikeformer_mm.models.neurons import MultiStepILIF, is_neuron
    m = MetaSpikeFormer(arch=TINY_ARCH, T=1, compact_spikes=True,
                        neuron_cfg=dict(type='ILIF', max_spike_count=4))
    assert all(isinstance(n, MultiStepILIF) for n in m.modules()
               if is_neuron(n))
    out = m(torch.rand(2, 3, 32, 32))[-1]
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)


def test_quantised_activation_baseline():
    """``type='QuantAct'``: round(clip(x / v_th, 0, D)) of each step alone
    (no membrane); at T=1 the same function and gradient as I-LIF, at T>1
    not (I-LIF carries its membrane)."""
    D = 3
    torch.manual_seed(0)
    x = (torch.randn(3, 2, 7) * 2).requires_grad_()
    q = build_neuron(dict(type='QuantAct', max_spike_count=D,
                          v_threshold=0.5))
    out = q(x)
    assert torch.equal(out, (x.detach() / 0.5).clamp(0, D).round())
    out.sum().backward()
    inside = ((x.detach() / 0.5) >= 0) & ((x.detach() / 0.5) <= D)
    assert torch.equal(x.grad != 0, inside)  # straight-through on [0, D]
    ilif = build_neuron(dict(type='ILIF', max_spike_count=D,
                             v_threshold=0.5))
    a, b = x[:1].detach().clone().requires_grad_(), \
        x[:1].detach().clone().requires_grad_()
    oa, ob = q(a), ilif(b)
    assert torch.equal(oa, ob)
    oa.sum().backward()
    ob.sum().backward()
    assert torch.equal(a.grad, b.grad)
    ilif.reset()
    assert not torch.equal(q(x.detach()), ilif(x.detach()))


def _sj_ilif(D, **kw):
    from spikingjelly.activation_based import neuron, surrogate
    return neuron.ILIFNode(surrogate_function=surrogate.MultiLevelSpikeCount(D),
                           step_mode='m', **kw)


@pytest.mark.parametrize('T', [1, 2, 4])
@pytest.mark.parametrize('D', [2, 4])
@pytest.mark.parametrize('detach_reset', [False, True])
@pytest.mark.parametrize('v_th,tau', [(1.0, 4.0 / 3.0), (0.3, 1.7)])
def test_fused_ilif_is_spikingjellys_bit_for_bit(T, D, detach_reset, v_th,
                                                 tau):
    """The fused CPU I-LIF gives spikingjelly's counts and input gradients
    exactly (torch.equal, not allclose), at any T, D, threshold, tau and
    reset mode."""
    torch.manual_seed(10 * T + D)
    x = (torch.randn(T, 3, 5, 6) * 3).requires_grad_()
    n = build_neuron(dict(type='ILIF', max_spike_count=D, tau=tau,
                          v_threshold=v_th, detach_reset=detach_reset))
    assert n.fused
    ref = _sj_ilif(D, tau=tau, v_threshold=v_th, detach_reset=detach_reset)
    x2 = x.detach().clone().requires_grad_()
    out, want = n(x), ref(x2)
    assert torch.equal(out, want) and out.max() == D
    g = torch.randn_like(out)
    out.backward(g)
    want.backward(g)
    assert torch.equal(x.grad, x2.grad)
    assert (x.grad == 0).any() and (x.grad != 0).any()  # the window bites


@pytest.mark.parametrize('T', [1, 3])
def test_fused_ilif_keeps_a_float32_membrane_at_low_precision(T):
    """bf16 input: counts in bf16; the recurrence and the gradient are
    spikingjelly's on the float32 values (its operator's state type)."""
    torch.manual_seed(T)
    x = (torch.randn(T, 4, 9) * 3).bfloat16().requires_grad_()
    n = build_neuron(dict(type='ILIF', max_spike_count=4))
    x2 = x.detach().float().requires_grad_()
    out, want = n(x), _sj_ilif(4)(x2)
    assert out.dtype == torch.bfloat16 and torch.equal(out.float(), want)
    g = torch.randn_like(out)
    out.backward(g)
    want.backward(g.float())
    assert x.grad.dtype == torch.bfloat16
    assert torch.equal(x.grad, x2.grad.bfloat16())


def test_fused_ilif_is_used_and_falls_back():
    """The fused path runs on the CPU from a zero membrane and leaves it at
    zero; a carried state, ``store_v_seq`` or ``backend='spikingjelly'``
    take spikingjelly's path (same counts); a bad backend is refused."""
    from spikingjelly.activation_based import neuron
    x = torch.randn(2, 3, 4) * 3
    calls = []
    orig = neuron.ILIFNode.multi_step_forward

    def spy(self, *a, **k):
        calls.append(1)
        return orig(self, *a, **k)
    neuron.ILIFNode.multi_step_forward = spy
    try:
        n = build_neuron(dict(type='ILIF'))
        want = n(x)
        assert calls == [] and n.v == 0.0
        n.v = torch.zeros(3, 4)  # a carried state
        assert torch.equal(n(x), want) and calls == [1]
        n.reset()
        n.store_v_seq = True
        assert torch.equal(n(x), want) and calls == [1, 1]
        sj = build_neuron(dict(type='ILIF', backend='spikingjelly'))
        assert not sj.fused and torch.equal(sj(x), want)
        assert calls == [1, 1, 1]
    finally:
        neuron.ILIFNode.multi_step_forward = orig
    for t in ('ILIF', 'QuantAct'):
        with pytest.raises(ValueError, match=f'backend of {t} must be'):
            build_neuron(dict(type=t, backend='cuda'))


@pytest.mark.parametrize('T', [1, 3])
def test_fused_quantised_activation_is_per_step_ilif(T):
    """Fused QuantAct (all steps at once) equals spikingjelly's I-LIF run
    one step at a time from a zero membrane: counts and gradients."""
    torch.manual_seed(T)
    x = (torch.randn(T, 2, 3, 5) * 3).requires_grad_()
    q = build_neuron(dict(type='QuantAct', max_spike_count=3,
                          v_threshold=0.5))
    out = q(x)
    g = torch.randn_like(out)
    out.backward(g)
    for t in range(T):
        xt = x[t:t + 1].detach().clone().requires_grad_()
        want = _sj_ilif(3, v_threshold=0.5)(xt)
        want.backward(g[t:t + 1])
        assert torch.equal(out[t:t + 1], want)
        assert torch.equal(x.grad[t:t + 1], xt.grad)


@pytest.mark.parametrize('T', [1, 2, 4])
def test_nilif_is_ilif_normalised_and_v3s_quantiser_at_t1(T):
    """Spike2Former's normalised I-LIF: I-LIF's counts (membrane over T)
    divided by D, in values and gradients; at T=1 exactly E-SpikeFormer's
    base quantiser (values and gradients). Mutation caught: dividing by
    anything but the norm."""
    from spikeformer_mm.models.backbones import e_spikeformer as v3
    torch.manual_seed(T)
    x = torch.randn(T, 4, 9, dtype=torch.float64) * 3
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    nilif, ilif = build_neuron(dict(type='NILIF')), build_neuron(
        dict(type='ILIF'))
    a, b = nilif(xa), ilif(xb) / 4
    assert torch.equal(a, b) and a.max() <= 1
    g = torch.randn_like(a)
    (a * g).sum().backward()
    (b * g).sum().backward()
    assert torch.equal(xa.grad, xb.grad)
    if T == 1:
        xm = x.clone().requires_grad_()
        m = build_neuron(v3.V3_BASE_NEURON)(xm)
        assert torch.equal(m, a)
        (m * g).sum().backward()
        assert torch.equal(xm.grad, xa.grad)
    assert build_neuron(dict(type='NILIF', max_spike_count=8)).norm == 8
    with pytest.raises(ValueError, match='norm must be > 0'):
        build_neuron(dict(type='NILIF', norm=0))
