"""Spikes saved bit-packed for backward (spikeformer_mm.models.packed_spikes)."""
import copy

import pytest
import torch

from spikeformer_mm.models import MetaSpikeFormer
from spikeformer_mm.models import packed_spikes as compact
from spikeformer_mm.models.neurons import build_neuron


@pytest.mark.parametrize('n', [1, 7, 8, 9, 1000])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_pack_bits_round_trip(n, dtype):
    g = torch.Generator().manual_seed(n)
    x = (torch.rand(n, generator=g) > 0.6).to(dtype).view(n, 1)
    packed = compact.pack_bits(x)
    assert packed.dtype == torch.uint8 and packed.numel() == (n + 7) // 8
    y = compact.unpack_bits(packed, x.shape, dtype)
    assert y.dtype == dtype and torch.equal(y, x)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_pack_bits_keeps_the_memory_layout(dtype):
    """A channels_last spike map comes back channels_last (what the conv
    backward of a channels_last model expects: no reorder), bit for bit;
    one bit per spike."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(3, 5, 4, 6, generator=g) > 0.5).to(dtype).contiguous(
        memory_format=torch.channels_last)
    order = compact._memory_order(x)
    packed = compact.pack_bits(x)
    assert packed.numel() == (x.numel() + 7) // 8
    y = compact.unpack_bits(packed, x.shape, dtype, order)
    assert torch.equal(y, x) and y.stride() == x.stride()
    # the order matters: restored as contiguous, the values would move
    z = compact.unpack_bits(packed, x.shape, dtype)
    assert z.is_contiguous() and not torch.equal(z, x)


def test_neuron_outputs_are_marked_views_too():
    s = build_neuron()(torch.randn(2, 3, 4, 5, 5))
    assert compact.is_spikes(s) and compact.is_spikes(s.flatten(0, 1))
    assert not compact.is_spikes(s * 2)  # a new tensor is not spikes


def test_neuron_makes_autocast_dtype_spikes_on_cpu():
    x = torch.randn(2, 3, 16)
    ref = build_neuron()(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        s = build_neuron()(x)
    assert s.dtype == torch.bfloat16 and torch.equal(s.float(), ref)


def test_compact_spikes_training_is_exact_and_packs(monkeypatch):
    packed = []

    class Spy(compact._Packed):
        def __init__(self, t):
            super().__init__(t)
            packed.append(t.numel())

    monkeypatch.setattr(compact, '_Packed', Spy)
    torch.manual_seed(0)
    ref = MetaSpikeFormer(arch=dict(embed_dims=[8, 16, 32, 32]), T=2,
                          attn_scale=1.0, out_indices=(1, 4)).train()
    cmp_ = copy.deepcopy(ref)
    cmp_.compact_spikes = True
    x = torch.rand(2, 3, 32, 32)
    grads = []
    for m in (ref, cmp_):
        outs = m(x)
        sum((o * torch.linspace(-1, 1, o.shape[2]).view(1, 1, -1, 1, 1))
            .sum() for o in outs).backward()
        grads.append({k: p.grad.clone() for k, p in m.named_parameters()})
    assert packed, 'no spikes were packed'
    assert sum(packed) > 10000
    for k in grads[0]:
        assert torch.equal(grads[0][k], grads[1][k]), k
    # outside training nothing is packed
    packed.clear()
    cmp_.eval()
    cmp_(x)
    assert not packed
