"""Firing rates and where a layer's input comes from: forward hooks on the
synaptic layers (our own: spikingjelly's ``monitor`` would pull in
tensorboard for a fraction of the tensor), and spikingjelly's op counters."""
from collections import defaultdict

import torch
import torch.nn as nn


# (the transposed conv: the upsampling of mmdet's mask head)
SYNAPTIC = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def _is_binary(x):
    return bool(x.eq(0).logical_or_(x.eq(1)).all())


def _is_count(x):
    """Non-negative integers: event counts (an event camera's frames)."""
    return bool((x >= 0).all() and x.eq(x.round()).all())


def _count_sops(m, x):
    """Synaptic operations of a layer fed event counts: each event reaches
    the weights it touches, so a pixel with ``n`` events costs ``n`` times
    its fan-out: the events in every window the conv slides over (unfold),
    times the outputs each window feeds (``out_channels / groups``).

    Not a convolution with all-ones weights: it would run inside the
    meter's op counters and be billed to the layer as FLOPs (measured:
    +1/C_out on an event encoder's FLOPs)."""
    if isinstance(m, nn.Linear):
        return float(x.double().sum()) * m.out_features
    x = x.double()
    kernel, stride, padding, dilation = (
        tuple(v) for v in (m.kernel_size, m.stride, m.padding, m.dilation))
    if isinstance(m, nn.Conv1d):  # as a 2-D conv of height 1
        x = x.unsqueeze(2)
        kernel, stride, padding, dilation = ((1, ) + kernel, (1, ) + stride,
                                             (0, ) + padding,
                                             (1, ) + dilation)
    windows = nn.functional.unfold(x, kernel, dilation=dilation,
                                   padding=padding, stride=stride)
    return float(windows.sum()) * (m.out_channels // m.groups)


def attention_neurons(attn: nn.Module) -> tuple:
    """Names of the Q, K, V neurons of an attention (V2's ``q_lif``...,
    E-SpikeFormer's base models' ``q_spike``...)."""
    return tuple(f'{p}_{kind}' for p in 'qkv' for kind in ('lif', 'spike')
                 if hasattr(attn, f'{p}_{kind}'))


def lif_scale(neuron: nn.Module) -> float:
    """What a neuron's output is divided by (E-SpikeFormer's ``norm``;
    1 for spikes and I-LIF counts)."""
    return float(getattr(neuron, 'norm', 1.0))


class FiringRateRecorder:
    """Forward pre-hooks recording the input firing rate of synaptic layers
    (and of the spike tensors that enter each attention product)."""

    def __init__(self, model, T):
        from ...deploy.binary_expansion import BinarySlotLayer
        self.T = T
        self.sums = defaultdict(lambda: torch.zeros(T, dtype=torch.float64))
        self.events = defaultdict(float)  # sum of the input (= non-zeros
        # for spikes; the unit events of integer counts)
        self.counts = defaultdict(int)
        self.binary = defaultdict(lambda: True)
        self.count = defaultdict(lambda: True)  # event-count input
        self.count_sops = defaultdict(float)
        self.kind = {}
        self.slots = {}  # name -> D: integer counts run as D binary slots
        self.steps = {}  # name -> T if it runs on time-folded input, else 1
        self.bias_adds = defaultdict(int)  # output elements of biased layers
        self.geometry = {}  # name -> the conv's (in, out, kernel, groups,
        # RepConv hidden width or None)
        self.once_for_T = {}  # sub-layers now running once for all T steps
        self.handles = []
        inner = set()
        for name, m in model.named_modules():
            if isinstance(m, BinarySlotLayer):
                # the layer that sees the slots belongs to its wrapper: the
                # wrapper is the synaptic layer, its input the counts
                inner.add(id(m.layer))
                self.kind[name] = 'linear' if isinstance(m.layer, nn.Linear) \
                    else 'conv'
                self.slots[name] = m.num_slots
                self.handles.append(m.register_forward_pre_hook(
                    self._pre_hook(name, m.scale)))
            elif isinstance(m, SYNAPTIC) and id(m) not in inner:
                self.kind[name] = 'linear' if isinstance(m, nn.Linear) \
                    else 'conv'
                if m.bias is not None:  # FlopCounter adds one per output
                    self.handles.append(m.register_forward_hook(
                        self._bias_hook(name)))
                if isinstance(m, nn.Conv2d):
                    self.geometry[name] = (
                        m.in_channels, m.out_channels, m.kernel_size,
                        m.groups, m.trained_hidden_width()
                        if hasattr(m, 'trained_hidden_width') else None)
                self.handles.append(m.register_forward_pre_hook(
                    self._pre_hook(name)))
            elif hasattr(m, 'runs_once_for'):  # a layer that may run once
                self.handles += [
                    m.register_forward_pre_hook(self._once_hook(name)),
                    m.register_forward_hook(
                        lambda *_: self.once_for_T.clear())]
            elif hasattr(m, 'use_unit_events'):  # an attention (V2's, V3's)
                self.kind[name] = 'matmul'
                if m.unit_event_slots():
                    self.slots[name] = m.unit_event_slots()
                for lif in attention_neurons(m):
                    self.handles.append(getattr(m, lif).register_forward_hook(
                        self._post_hook(name, lif_scale(getattr(m, lif)))))

    def _add(self, name, x, once=False, scale=1.0):
        """Record input ``x`` of ``name``; ``scale``: ``x`` holds counts
        divided by it (E-SpikeFormer's neuron), so its unit events are
        ``x * scale``."""
        if not torch.is_tensor(x) or x.numel() == 0:
            return
        x = x.detach()
        self.binary[name] &= _is_binary(x)
        T = self.T
        if once:  # a static image's encoder, run once for all T steps
            self.steps[name] = 1
            nz = torch.full((T, ), (x != 0).double().sum().item())
            self.sums[name] += nz
            self.counts[name] += x.numel()
            self.events[name] += float(x.double().sum()) * T * scale
            return
        # non-zeros and elements per time step, summed over calls: a layer
        # run on inputs of several sizes (a head shared over FPN levels)
        # gets the rate of all its inputs together
        if x.shape[0] % T == 0:
            nz = (x != 0).reshape(T, -1).double().sum(1)
            n = x.numel() / T
            self.steps.setdefault(name, T)
        else:  # not time-folded (e.g. a dense head): one rate for all
            nz = torch.full((T, ), (x != 0).double().sum().item() / T)
            n = x.numel() / T
            self.steps[name] = 1
        self.sums[name] += nz
        self.counts[name] += n
        self.events[name] += float(x.double().sum()) * scale

    def _pre_hook(self, name, scale=1.0):
        def hook(m, args):
            x = args[0]
            self._add(name, x, self.once_for_T.get(name), scale)
            if torch.is_tensor(x) and not self.binary[name] and \
                    self.count[name] and name not in self.slots:
                # event counts feed an encoding conv, never a transposed one
                self.count[name] &= _is_count(x.detach()) and not \
                    isinstance(m, nn.ConvTranspose2d)
                if self.count[name]:
                    self.count_sops[name] += _count_sops(m, x.detach())
        return hook

    def _once_hook(self, name):
        """Before a layer that may run sub-layers once for all T steps (a
        static image's encoder): which, asked of the layer."""
        def hook(m, args):
            self.once_for_T.update({f'{name}.{k}' if name else k: T
                                    for k, T in
                                    m.runs_once_for(args[0]).items()})
        return hook

    def _bias_hook(self, name):
        def hook(m, args, out):
            self.bias_adds[name] += out.numel()
        return hook

    def _post_hook(self, name, scale=1.0):
        return lambda m, args, out: self._add(name, out, scale=scale)

    def rates(self, name):
        if not self.counts[name]:
            return None
        return (self.sums[name] / self.counts[name]).tolist()

    def events_per_neuron_step(self, name):
        """Mean input per element and time step: the unit events of
        integer counts (SpikeYOLO's firing rate, which includes D), equal
        to the firing rate for 0/1 spikes."""
        return self.events[name] / (self.counts[name] * self.T)

    def remove(self):
        for h in self.handles:
            h.remove()


def op_counters():
    from spikingjelly.activation_based.op_counter import (FlopCounter,
                                                          MACCounter,
                                                          SynOpCounter)
    aten = torch.ops.aten
    sop, mac, flop = SynOpCounter(), MACCounter(), FlopCounter()
    # conv, linear and matmul only (docs/model.md, "Energy")
    for c in (mac, flop):
        for op in list(c.rules):
            if op not in (aten.mm.default, aten.addmm.default,
                          aten.bmm.default, aten.baddbmm.default,
                          aten.convolution.default):
                c.rules.pop(op)
    return sop, mac, flop


class SourceTracker:
    """What feeds each synaptic layer: the neuron whose spikes it reads, or
    the layer whose real-valued output it reads (SepConv's second 1x1 conv
    reads its depthwise conv; a dense neck reads ``SpikeToDense``), or the
    model's input. Forward hooks on every module map each output tensor's
    storage to the innermost module that returned it (held for one forward
    only, so no storage is reused meanwhile)."""

    def __init__(self, model, names):
        from ...models.neurons import is_neuron
        self.source, self._made, self._keep, self.handles = {}, {}, [], []
        self._neurons = {n for n, m in model.named_modules() if is_neuron(m)}
        for n, m in model.named_modules():
            self.handles.append(m.register_forward_hook(self._out(n)))
        for n in names:
            self.handles.append(model.get_submodule(n).register_forward_pre_hook(
                self._in(n)))

    def _out(self, name):
        def hook(m, args, out):
            ins = {id(a) for a in args}
            for t in tensors_of(out):
                if id(t) in ins:
                    continue  # passed through (an Identity), not made here
                self._keep.append(t)
                self._made.setdefault(t.untyped_storage().data_ptr(), name)
        return hook

    def _in(self, name):
        def hook(m, args):
            if name in self.source or not torch.is_tensor(args[0]):
                return
            src = self._made.get(args[0].untyped_storage().data_ptr())
            # the first synaptic layer that reads no neuron reads the input
            self.source[name] = src if src in self._neurons else 'input' \
                if not self.source else \
                f'real-valued ({src or "not a layer output"})'
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles, self._keep, self._made = [], [], {}


def tensors_of(out):
    """The tensors of a module's output (a tensor, or tuples, lists and
    dicts of them, e.g. a detector's), in order."""
    if torch.is_tensor(out):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in tensors_of(o)]
    return []
