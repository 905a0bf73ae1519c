"""Binary (spike-driven) inference of an integer-spike (I-LIF) model.

An I-LIF neuron emits a count ``C in {0..D}`` per time step. Trained as
counts, the network is run spike-driven by expanding each count into ``D``
binary event slots, ``C = sum_d S_d`` with ``S_d = [C > d]`` (a thermometer
code; spikingjelly's ``SpikeCountToBinary``), so that every synaptic layer
does accumulates only::

    W C + b = sum_d (W S_d) + b

The bias is added once, after the slots are summed (spikingjelly's
``TemporalBinSum``), not once per slot: adding it per slot gives
``W C + D b`` (the pitfall of SpikeYOLO issue #73). The attention products
of SDSA with count operands are sums over pairs of unit events
(``K^T V = sum_{d,e} K_d^T V_e``, ``Q M = sum_d Q_d M``); see
:meth:`~spikeformer_mm.models.layers.SpikingSelfAttention.binary_products`.

:func:`expand_to_binary` finds the synaptic layers that read an I-LIF
neuron's output by running the model once (each layer whose input is a view
of such an output: a static table per block would miss the spike-shortcut
variants, where a block's output neuron feeds the next block) and wraps
each in a :class:`BinarySlotLayer`. :func:`check_binary_form` proves the
result spike-driven: no synaptic layer of the expanded model reads an
integer count above 1.
"""
from collections import OrderedDict
from typing import Callable, Dict, List

import torch
import torch.nn as nn
from spikingjelly.activation_based.layer import (SpikeCountToBinary,
                                                 TemporalBinSum)

from ..models.neurons import MultiStepILIF, MultiStepMultiSpike

# the neurons whose outputs are integer counts (E-SpikeFormer's MultiSpike:
# counts divided by its norm)
INTEGER_NEURONS = (MultiStepILIF, MultiStepMultiSpike)


def count_slots(neuron: nn.Module) -> tuple:
    """``(D, scale)`` of an integer neuron: its output is ``count /
    scale`` with ``count`` in ``0..D``."""
    return int(neuron.max_spike_count), float(getattr(neuron, 'norm', 1.0))

SYNAPTIC = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


class BinarySlotLayer(nn.Module):
    """A synaptic ``layer`` run on the ``num_slots`` binary slots of its
    integer-count input, the slot outputs summed and the bias added once.

    ``layer`` keeps its weight and loses its bias to this module
    (``self.bias``): between the expansion and the sum the layer must be
    bias-free (spikingjelly's ``SpikeCountToBinary`` contract).
    """

    def __init__(self, layer: nn.Module, num_slots: int, scale: float = 1.0):
        super().__init__()
        if not isinstance(layer, SYNAPTIC):
            raise TypeError(f'BinarySlotLayer: a conv or linear layer is '
                            f'needed, got {type(layer).__name__}')
        self.num_slots = int(num_slots)
        # inputs are count / scale (E-SpikeFormer's neuron): the slots are
        # the counts' and the sum is divided by scale (weights W / scale)
        self.scale = float(scale)
        bias = layer.bias
        layer.register_parameter('bias', None)
        self.layer = layer
        self.bias = bias
        self.to_slots = SpikeCountToBinary(self.num_slots,
                                           always_convert=True)
        self.sum_slots = TemporalBinSum(self.num_slots, always_convert=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        D = self.num_slots
        counts = x if self.scale == 1.0 else x * self.scale
        slots = self.to_slots(counts.unsqueeze(0))  # [D, *x.shape], 0/1
        y = self.layer(slots.flatten(0, 1))  # the slots in the batch axis
        y = self.sum_slots(y.reshape(D, -1, *y.shape[1:]))[0]
        return self.add_bias(y if self.scale == 1.0 else y / self.scale)

    def add_bias(self, y: torch.Tensor) -> torch.Tensor:
        """``y`` plus the layer's bias (once)."""
        if self.bias is None:
            return y
        shape = [1] * y.dim()
        shape[-1 if isinstance(self.layer, nn.Linear) else 1] = -1
        return y + self.bias.view(shape)

    def extra_repr(self):
        return (f'num_slots={self.num_slots}, scale={self.scale:g}, '
                f'bias_once={self.bias is not None}')


def integer_neurons(model: nn.Module) -> Dict[str, nn.Module]:
    """The integer neurons (I-LIF, MultiSpike) of ``model`` by name."""
    return OrderedDict((n, m) for n, m in model.named_modules()
                       if isinstance(m, INTEGER_NEURONS))


def _storage(x):
    return x.untyped_storage().data_ptr() if torch.is_tensor(x) else None


@torch.no_grad()
def find_count_consumers(model: nn.Module, run: Callable[[], object]
                         ) -> Dict[str, str]:
    """``{synaptic layer name: I-LIF neuron name}``: the layers whose input
    is (a view of) an I-LIF neuron's output when ``run()`` runs ``model``
    once."""
    neurons = integer_neurons(model)
    outputs, consumers, handles = {}, OrderedDict(), []
    keep = []  # outputs stay alive, so their storage is not reused

    def on_neuron(name):
        def hook(m, args, out):
            keep.append(out)
            outputs[_storage(out)] = name
        return hook

    def on_layer(name):
        def hook(m, args):
            src = outputs.get(_storage(args[0]))
            if src is not None:
                consumers.setdefault(name, src)
        return hook

    for n, m in neurons.items():
        handles.append(m.register_forward_hook(on_neuron(n)))
    _run_with_layer_hooks(model, on_layer, run, handles)
    return consumers


def _run_with_layer_hooks(model, make_hook, run, handles=()):
    """``run()`` with ``make_hook(name)`` as a forward pre-hook of every
    synaptic layer; every hook (and ``handles``) removed afterwards."""
    handles = list(handles)
    try:
        for n, m in model.named_modules():
            if isinstance(m, SYNAPTIC):
                handles.append(m.register_forward_pre_hook(make_hook(n)))
        run()
    finally:
        for h in handles:
            h.remove()


def _query_neuron(attn):
    return getattr(attn, 'q_lif', None) or getattr(attn, 'q_spike', None)


def _attentions(model):
    """The attentions (those that can compute their products over unit
    events: ``use_unit_events``) whose Q, K, V are integer counts."""
    return [(n, m) for n, m in model.named_modules()
            if hasattr(m, 'use_unit_events')
            and isinstance(_query_neuron(m), INTEGER_NEURONS)]


def _set_module(model, name, module):
    parent, _, child = name.rpartition('.')
    setattr(model.get_submodule(parent) if parent else model, child, module)


@torch.no_grad()
def expand_to_binary(model: nn.Module, run: Callable[[], object]
                     ) -> List[str]:
    """Turn the I-LIF model ``model`` into its binary (spike-driven) form,
    in place: every synaptic layer that reads an I-LIF output becomes a
    :class:`BinarySlotLayer` with that neuron's ``D`` slots, and every
    attention with I-LIF Q, K, V computes its products over unit events.
    ``run()`` runs the model once (on any input) to find those layers.
    The model computes the same function (to float rounding: integers are
    exact, so in float64 the difference is ~1e-12 or less). Returns the
    names of the expanded layers."""
    neurons = integer_neurons(model)
    if not neurons:
        raise ValueError('expand_to_binary: the model has no I-LIF neuron '
                         "(neuron_cfg=dict(type='ILIF', ...)); a binary "
                         'model is already spike-driven')
    attentions = _attentions(model)
    for name, attn in attentions:
        if getattr(attn, 'attention', 'sdsa_v2') != 'sdsa_v2':
            raise ValueError(f'expand_to_binary: {name} uses attention='
                             f'{attn.attention!r}; the binary form of '
                             f'integer spikes is built for sdsa_v2 (the '
                             f'paper\'s) only')
    was_training = model.training
    model.eval()
    consumers = find_count_consumers(model, run)
    for layer_name, neuron_name in consumers.items():
        layer = model.get_submodule(layer_name)
        _set_module(model, layer_name, BinarySlotLayer(
            layer, *count_slots(neurons[neuron_name])))
    for _, attn in attentions:
        attn.use_unit_events(*count_slots(_query_neuron(attn)))
    model.train(was_training)
    return list(consumers)


def is_binary_form(model: nn.Module) -> bool:
    """True once :func:`expand_to_binary` has run on ``model``."""
    return any(isinstance(m, BinarySlotLayer) for m in model.modules())


# the products the attention may compute; each is checked for a 0/1 operand
_PRODUCTS = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__,
             torch.Tensor.__rmatmul__, torch.bmm, torch.Tensor.bmm, torch.mm,
             torch.Tensor.mm, torch.einsum}


def _is_binary(x) -> bool:
    return torch.is_tensor(x) and bool(x.eq(0).logical_or_(x.eq(1)).all())


class _AttentionProducts(torch.overrides.TorchFunctionMode):
    """While a binary-form attention runs (``inside`` names it), record
    every matrix product whose operands are both non-binary: an integer
    MAC, not an accumulate of unit events."""

    def __init__(self):
        super().__init__()
        self.inside, self.products, self.bad = None, {}, []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if self.inside is not None and func in _PRODUCTS:
            ops = [a for a in args if torch.is_tensor(a)]
            self.products[self.inside] = self.products.get(self.inside, 0) + 1
            if not any(map(_is_binary, ops)):
                self.bad.append(self.inside)
        return func(*args, **(kwargs or {}))


def _attention_hooks(model, mode):
    """Forward hooks that point ``mode`` at each binary-form attention
    while it runs."""
    handles = []
    for name, attn in _attentions(model):
        def enter(m, args, name=name):
            mode.inside = name
            mode.products.setdefault(name, 0)

        def leave(m, args, out):
            mode.inside = None
        handles += [attn.register_forward_pre_hook(enter),
                    attn.register_forward_hook(leave)]
    return handles


@torch.no_grad()
def check_binary_form(model: nn.Module, run: Callable[[], object]) -> int:
    """Run ``model`` once and raise a ``ValueError`` naming

    * any synaptic layer that reads integer counts above 1 (a layer the
      expansion missed: the model would do integer MACs there). The first
      synaptic layer run, the encoder, reads the input (pixels, or an event
      camera's counts), not a neuron's output, and is not checked;
    * any synaptic layer that reads an integer neuron's output as it is
      (not its binary slots; E-SpikeFormer's counts ``k / 4`` look real);
    * any attention with integer Q, K, V one of whose matrix products has
      no 0/1 operand (``K^T V`` of counts instead of unit events), or that
      computed no product where this check sees it.

    Returns how many synaptic layer calls read binary slots."""
    bad, binary, calls = [], [0], [0]

    def hook(name):
        def check(m, args):
            x = args[0]
            calls[0] += 1
            if not torch.is_tensor(x) or x.numel() == 0 or calls[0] == 1:
                return
            integer = bool((x >= 0).all() and x.eq(x.round()).all())
            if integer and bool((x > 1).any()):
                bad.append(name)
            elif _is_binary(x):
                binary[0] += 1
        return check

    mode = _AttentionProducts()
    handles = _attention_hooks(model, mode)
    with mode:
        _run_with_layer_hooks(model, hook, run, handles)
    bad += list(find_count_consumers(model, run))
    if bad:
        raise ValueError(f'check_binary_form: {len(set(bad))} synaptic '
                         f'layers read integer counts, not binary slots: '
                         f'{sorted(set(bad))[:5]}')
    unseen = sorted(n for n, k in mode.products.items() if k == 0)
    if mode.bad or unseen:
        raise ValueError(
            f'check_binary_form: {len(set(mode.bad) | set(unseen))} '
            f'attentions multiply integer counts, not unit events: '
            f'{sorted(set(mode.bad))[:5]} (a product with no 0/1 operand)'
            + (f'; {unseen[:5]} made no matrix product this check could '
               f'see' if unseen else ''))
    return binary[0]
