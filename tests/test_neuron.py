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
    fused = build_neuron(dict(cfg, fused=True))
    ref = build_neuron(dict(cfg, fused=False))
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
    n = build_neuron()
    x = torch.randn(2, 3)
    calls = []
    orig = type(n).__mro__[1].multi_step_forward

    def spy(self, *a, **k):
        calls.append(1)
        return orig(self, *a, **k)
    import spikeformer_mm.models.neurons as mod
    mod.neuron.LIFNode.multi_step_forward = spy
    try:
        n(x)  # fresh state: fused, spikingjelly not called
        assert calls == []
        n(x)  # state carried over (a tensor): spikingjelly's path
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
    node = build_neuron(dict(cfg, fused=False))
    x = torch.randn(4, 3, 8) * 2
    want = node(x)
    assert want.sum() > 0 and (want == 0).any()
    assert torch.equal(unrolled_lif(x, node), want)
