"""Spikes stored compactly for backward: 1 bit instead of 32 (or 16).

A spiking layer's conv saves its input, a tensor of spikes, for the weight
gradient. Spikes are 0 or 1, so inside :func:`compact_spikes` every saved
tensor that is a neuron's output (or a view of one) is bit-packed when
autograd saves it and unpacked, exactly, when backward needs it. Other saved
tensors (membrane potentials, BN inputs) are kept as they are.

Neurons mark their outputs with :func:`mark_spikes`; the mark is on the
tensor object, so it cannot outlive it or be confused with other data at
the same address. Packing costs two cheap elementwise passes per saved
spike tensor; nothing is recomputed.
"""
import contextlib
from typing import Iterator, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

_MARK = '_spikeformer_spikes'


def mark_spikes(t: torch.Tensor) -> torch.Tensor:
    """Mark ``t`` (a 0/1 tensor made by a neuron) as spikes; returns it."""
    setattr(t, _MARK, True)
    return t


def is_spikes(t: torch.Tensor) -> bool:
    """True for a tensor marked by :func:`mark_spikes` or a view of one."""
    return getattr(t, _MARK, False) or (
        t._base is not None and getattr(t._base, _MARK, False))


def _shifts(device):
    return torch.arange(8, dtype=torch.uint8, device=device)


def _memory_order(t):
    """The permutation that lists ``t``'s dims from the largest stride to
    the smallest: ``t.permute(order)`` walks memory in order, so a
    ``channels_last`` tensor is packed and restored without a layout copy."""
    return sorted(range(t.dim()), key=lambda d: -t.stride(d))


def pack_bits(t: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
    """A 0/1 tensor -> uint8 tensor of ``ceil(numel / 8)`` bytes, in the
    tensor's memory order. On a CPU numpy's ``packbits`` (one vectorised
    pass) does the packing: several times faster than shifting and summing
    in torch, which is kept for GPUs."""
    flat = t.permute(_memory_order(t)).reshape(-1).to(torch.bool)
    if flat.device.type == 'cpu':
        import numpy as np
        return torch.from_numpy(np.packbits(flat.numpy()))
    flat = flat.to(torch.uint8)
    pad = (-flat.numel()) % 8
    if pad:
        flat = F.pad(flat, (0, pad))
    return (flat.view(-1, 8) << _shifts(t.device)).sum(1, dtype=torch.uint8)


def unpack_bits(packed: torch.Tensor, shape: Sequence[int],
                dtype: torch.dtype,
                order: Optional[Sequence[int]] = None) -> torch.Tensor:
    """Inverse of :func:`pack_bits`: a tensor of ``shape`` and ``dtype``
    laid out in the memory ``order`` the packed tensor had (default:
    contiguous)."""
    order = list(range(len(shape))) if order is None else list(order)
    mem_shape = [shape[d] for d in order]
    n = 1
    for s in shape:
        n *= s
    if packed.device.type == 'cpu':
        import numpy as np
        bits = torch.from_numpy(np.unpackbits(packed.numpy(), count=n))
    else:
        bits = ((packed.unsqueeze(1) >> _shifts(packed.device)) & 1)
        bits = bits.view(-1)[:n]
    out = bits.to(dtype).view(mem_shape)
    return out.permute([order.index(d) for d in range(len(shape))])


class _Packed:
    __slots__ = ('data', 'shape', 'dtype', 'order')

    def __init__(self, t):
        self.data = pack_bits(t)
        self.shape = t.shape
        self.dtype = t.dtype
        self.order = _memory_order(t)


def _pack(t):
    if t.dtype.is_floating_point and is_spikes(t):
        return _Packed(t)
    return t


def _unpack(obj):
    if isinstance(obj, _Packed):
        return unpack_bits(obj.data, obj.shape, obj.dtype, obj.order)
    return obj


def compact_spikes(enabled: bool = True) -> Iterator[None]:
    """Context manager: autograd saves neuron outputs bit-packed."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autograd.graph.saved_tensors_hooks(_pack, _unpack)
