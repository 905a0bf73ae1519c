"""Energy, firing rates, parameters and FLOPs of a spiking model.

The 45 nm energy model the field uses (Horowitz, ISSCC 2014; the paper's
Sec. 5 and appendix): a multiply-accumulate (MAC) costs 4.6 pJ, an
accumulate (AC) 0.9 pJ. A synaptic layer (conv, transposed conv, linear, or an attention
product) whose input is a binary spike tensor does one AC per synaptic
operation (SOP); a layer with real-valued input (the encoding conv that
sees pixels, the dense necks and heads of detectors and segmentors) does
MACs. Per image::

    E = 4.6 pJ * MACs + 0.9 pJ * SOPs,   SOPs ~= T * firing_rate * FLOPs

Counting uses spikingjelly's op counters, which see every aten op of the
forward pass with the module that runs it: ``SynOpCounter`` counts SOPs
exactly (each input spike times the weights it reaches, so border pixels of
a padded conv count what they really touch; for 1x1 convs, linears and
unpadded convs this equals T x rate x FLOPs; a layer fed event counts, the
encoding conv of an event-camera model, costs one AC per event and weight
it reaches), ``MACCounter`` counts MACs of
non-spike inputs (its BatchNorm rule is dropped: the paper counts conv and
linear layers only; BNs fold into convs at deployment) and ``FlopCounter``
gives the dense FLOPs. Firing rates are measured with forward pre-hooks on
the synaptic layers (our own: spikingjelly's ``monitor`` would pull in
tensorboard for a fraction of the tensor).

The attention products of SDSA are counted as the aten ``bmm``/``mul`` ops
they are: in the V2 form ``K^T V`` has both operands binary (one AC per
pair of co-active entries) and ``Q (K^T V)`` has binary ``Q`` (one AC per
spike of Q times the head dim); they appear as one ``matmul`` row per
attention module. By default the model is first re-parameterised for
deployment (``switch_to_deploy``: RepConv and BNs folded into single convs,
the form the paper's design targets); ``deploy=False`` counts the training
graph, where RepConv's inner convs see real values and count as MACs.

Integer spikes (I-LIF) are counted in their binary form
(:func:`spikeformer_mm.deploy.expand_to_binary`): each count of k is k unit
events, each reaching each weight is one AC, so an integer input is never
billed as a MAC (the meter refuses an I-LIF model that was not expanded).
Two rates are reported per layer: ``firing_rate``, the non-zero fraction of
the input, and ``events_per_neuron_step``, unit events per neuron and step
(SpikeYOLO's, which includes D; the same for 0/1 spikes). The paper
convention bills a spike input at ``events_per_neuron_step`` (the report's
``paper_rate``), a real-valued input inside the backbone (SepConv's second
1x1 conv) at its ``firing_rate``, as the papers do; a dense layer (real
values outside the spiking backbone: dense necks and heads) is a MAC in
both conventions, and the report gives its share (``dense``).
"""
import math
from collections import defaultdict
from typing import Optional

import torch
import torch.nn as nn

E_MAC_PJ = 4.6
E_AC_PJ = 0.9
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
    its fan-out (exactly: a conv with all-ones weights, summed)."""
    if isinstance(m, nn.Linear):
        return float(x.double().sum()) * m.out_features
    # one all-ones filter per group: output g sums the events its group's
    # outputs (out_channels / groups of them) each receive
    ones = torch.ones((m.groups, m.in_channels // m.groups) +
                      tuple(m.kernel_size), dtype=torch.float64,
                      device=x.device)
    conv = nn.functional.conv2d if isinstance(m, nn.Conv2d) else \
        nn.functional.conv1d
    reach = conv(x.double(), ones, stride=m.stride, padding=m.padding,
                 dilation=m.dilation, groups=m.groups)
    return float(reach.sum()) * (m.out_channels // m.groups)


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
        from ..deploy.binary_expansion import BinarySlotLayer
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
                        m.groups, getattr(m, 'rep_conv_hidden', None))
                self.handles.append(m.register_forward_pre_hook(
                    self._pre_hook(name)))
            elif hasattr(m, 'use_unit_events'):  # an attention (V2's, V3's)
                self.kind[name] = 'matmul'
                if m.binary_slots:
                    self.slots[name] = m.binary_slots
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
            self._add(name, x, getattr(m, 'runs_once_for_T', None), scale)
            if torch.is_tensor(x) and not self.binary[name] and \
                    self.count[name] and name not in self.slots:
                # event counts feed an encoding conv, never a transposed one
                self.count[name] &= _is_count(x.detach()) and not \
                    isinstance(m, nn.ConvTranspose2d)
                if self.count[name]:
                    self.count_sops[name] += _count_sops(m, x.detach())
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


def _counters():
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
        from ..models.neurons import is_neuron
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


CONVENTIONS = ('measured', 'paper')
FLOPS_BASES = ('deployed', 'trained')


def trained_macs(macs_deployed, geometry):
    """MACs per step of a dense 3x3 conv collapsed from a RepConv, counted
    in its trained form (1x1, depthwise 3x3, 1x1: ``Cin C + 9 C + C Cout``
    per position instead of ``9 Cin Cout``); other layers as they are."""
    if not geometry or geometry[4] is None:
        return macs_deployed
    cin, cout, k, groups, c = geometry
    positions = macs_deployed / (k[0] * k[1] * cin // groups * cout)
    return positions * (cin * c + 9 * c + c * cout)


class EnergyMeter:
    """Accumulate energy statistics of ``model`` over calls of ``run``.

    Args:
        model (nn.Module): the model (any mm model with a spiking backbone).
        T (int): time steps of the backbone.
        convention (str): the one ``energy_mJ`` reports (both are always in
            the report): ``'measured'`` (each layer as it runs: a MAC per
            multiply of a real-valued input, an AC per spike and weight it
            reaches; a static image's encoder counted once) or ``'paper'``
            (the Meta-SpikeFormer family's formula: 4.6 pJ x the encoding
            conv's FLOPs, once, plus 0.9 pJ x rate x T x FLOPs of every
            other synaptic layer of the spiking model; a dense layer, one
            that reads real values outside the backbone, is 4.6 pJ x its
            MACs here too; docs/energy.md).
        flops_basis (str): the FLOPs of the paper convention: ``'deployed'``
            (each RepConv as the one dense 3x3 conv it is at deployment) or
            ``'trained'`` (as its 1x1, depthwise 3x3, 1x1 convs).
    """

    def __init__(self, model, T, convention='measured',
                 flops_basis='deployed'):
        if convention not in CONVENTIONS:
            raise ValueError(f'convention must be one of {CONVENTIONS}, got '
                             f'{convention!r}')
        if flops_basis not in FLOPS_BASES:
            raise ValueError(f'flops_basis must be one of {FLOPS_BASES}, '
                             f'got {flops_basis!r}')
        self.convention, self.flops_basis = convention, flops_basis
        from ..deploy.binary_expansion import integer_neurons, is_binary_form
        if integer_neurons(model) and not is_binary_form(model):
            raise ValueError(
                'EnergyMeter: the model has integer-spike (I-LIF) neurons; '
                'measure its binary form (spikeformer_mm.deploy.'
                'expand_to_binary, as measure_energy does): an integer '
                'count is D unit events, never a multiply')
        self.model, self.T = model, T
        self.recorder = FiringRateRecorder(model, T)
        self.tracker = SourceTracker(model, [
            n for n, k in self.recorder.kind.items() if k != 'matmul'])
        self.sop, self.mac, self.flop = _counters()
        self.num_images = 0
        # spikingjelly's module tracker names modules by their path from the
        # root, with the root's class name in front
        self.prefix = type(model).__name__

    def _in_backbone(self, name: str) -> bool:
        """Whether layer ``name`` belongs to the spiking backbone (the
        model itself when it has no ``backbone``)."""
        if not isinstance(getattr(self.model, 'backbone', None), nn.Module):
            return True
        return name.startswith('backbone.')

    @torch.no_grad()
    def run(self, fn, num_images):
        """Call ``fn()`` (one forward of the model) under the counters."""
        from spikingjelly.activation_based.op_counter import \
            DispatchCounterMode
        with DispatchCounterMode([self.sop, self.mac, self.flop]):
            fn()
        self.tracker.remove()  # the first forward names every source
        self.num_images += num_images

    def _per_layer(self, counter):
        names = set(self.recorder.kind)
        out = defaultdict(int)
        for scope, ops in counter.get_counts().items():
            if scope == self.prefix:
                s = ''  # the root module
            elif scope.startswith(self.prefix + '.'):
                s = scope[len(self.prefix) + 1:]
            else:
                continue  # 'Global' and other aggregates
            if s in names:
                out[s] += sum(ops.values())
        # spikingjelly records an op in every enclosing module's scope: an
        # attention module's scope also holds its projections' counts, so
        # keep only its own (the products)
        own = {}
        for name, total in out.items():
            if self.recorder.kind[name] == 'matmul':
                inner = [d for d in out if d != name and (
                    name == '' or d.startswith(name + '.'))]
                total -= sum(out[d] for d in inner)
            own[name] = total
        return own

    def report(self):
        """The statistics per image, as the JSON of
        tools/analysis_tools/energy.py."""
        n = max(self.num_images, 1)
        per_layer = (self._per_layer(self.sop), self._per_layer(self.mac),
                     self._per_layer(self.flop), n)
        layers = [row for row in (
            self._layer_row(name, kind, *per_layer)
            for name, kind in self.recorder.kind.items()) if row is not None]
        return self._summary(layers)

    @staticmethod
    def _paper_energy(per_step, source, spikes, dense, rate, steps):
        """A layer's energy in the papers' convention on one FLOPs basis
        (``per_step`` MACs of one step): MACs for a real-valued encoder
        (once) or a dense layer (each step), else ACs at ``rate``."""
        if source == 'input' and not spikes:
            return dict(op='MAC', rate=None, macs_per_step=per_step,
                        energy_mJ=per_step * E_MAC_PJ * 1e-9)
        if dense:
            return dict(op='MAC', rate=None, macs_per_step=per_step,
                        energy_mJ=per_step * steps * E_MAC_PJ * 1e-9)
        return dict(op='AC', rate=rate, macs_per_step=per_step,
                    energy_mJ=rate * steps * per_step * E_AC_PJ * 1e-9)

    def _input_kind(self, name, kind, source, m, s, f, bias, n):
        """What a layer reads (0/1 spikes, integer counts as D binary slots,
        an event camera's counts, or real values) and so its measured MACs
        and SOPs and its FLOPs per image: ``(binary, events, macs, sops,
        flops)``."""
        binary = self.recorder.binary[name]
        D = self.recorder.slots.get(name)
        made_by_layer = source.startswith('real-valued')
        if made_by_layer and self.recorder.count[name]:
            # 0/1 or integer values that no neuron made (a silent
            # depthwise conv's zeros): the layer multiplies real values
            binary, m = False, (f - bias) / 2
        # event counts reach the encoder only (an event camera's frames)
        events = not binary and self.recorder.count[name] and \
            kind != 'matmul' and D is None and not made_by_layer
        if D is not None:
            # integer counts run as D binary slots: spikingjelly's
            # counters saw the slots (one AC per unit event and weight
            # reached; pairs of unit events in K^T V); the FLOPs are
            # the integer layer's (a conv/linear ran D times, each of
            # the attention's two products, of equal cost N c^2, D^2
            # and D times)
            binary, m = True, 0.
            f = f / D if kind != 'matmul' else f * 2 / (D * D + D)
        elif binary:
            m = 0.  # spike input: accumulates only (SOPs)
        elif events:
            # event counts (an event camera): n events at a pixel are
            # n accumulates per weight they reach
            m, s = 0., self.recorder.count_sops[name] / n
        else:
            s = 0.
        return binary, events, m, s, f

    def _layer_row(self, name, kind, sops, macs, flops, n):
        """One synaptic layer's row of the report (per image), or None for
        a layer that did not run."""
        rates = self.recorder.rates(name)
        if rates is None:
            return None  # not run (e.g. a branch the model skips)
        s, m = sops.get(name, 0) / n, macs.get(name, 0) / n
        D = self.recorder.slots.get(name)
        source = ', '.join(
            f'{name}.{q}' for q in attention_neurons(
                self.model.get_submodule(name))) \
            if kind == 'matmul' else self.tracker.source.get(name, '')
        steps = self.recorder.steps.get(name, self.T)
        f = flops.get(name, 0) / n
        # dense MACs of one step (FlopCounter's FLOPs are 2 per MAC plus
        # one per output for a bias; the papers count MACs)
        bias = self.recorder.bias_adds.get(name, 0) / n
        binary, events, m, s, f = self._input_kind(name, kind, source, m, s,
                                                   f, bias, n)
        # the encoder of a static image sees the same input at every
        # step: the backbone runs it once (and the papers count it so)
        static = self.T > 1 and source == 'input' and \
            self.recorder.steps.get(name) == 1
        deployed = (f - bias) / 2 / steps
        bases = dict(deployed=deployed, trained=trained_macs(
            deployed, self.recorder.geometry.get(name)))
        spikes = binary or events
        ev = self.recorder.events_per_neuron_step(name) if spikes \
            else None
        rate = sum(rates) / len(rates)
        # a dense layer: real values outside the spiking backbone (a
        # dense neck or head); the papers' formula is for their
        # spike-driven model, so it is a MAC in both conventions
        dense = not spikes and source != 'input' and \
            not self._in_backbone(name)
        papers = {basis: self._paper_energy(per_step, source, spikes, dense,
                                            ev if spikes else rate, steps)
                  for basis, per_step in bases.items()}
        paper = papers[self.flops_basis]
        other = 'trained' if self.flops_basis == 'deployed' \
            else 'deployed'
        paper[f'energy_mJ_{other}_basis'] = papers[other]['energy_mJ']
        measured = dict(macs=m, sops=s,
                        energy_mJ=(m * E_MAC_PJ + s * E_AC_PJ) * 1e-9)
        return dict(
            name=name, type=kind, source=source,
            firing_rate=rate,
            firing_rate_per_t=rates,
            events_per_neuron_step=ev,
            num_slots=D,
            spike_input=spikes,
            dense=dense,
            input=(f'binary slots (D={D})' if D else 'spikes') if binary
            else 'events' if events else 'real',
            static_input=static,
            flops=f, steps=steps, macs_per_step=deployed,
            macs_per_step_trained=bases['trained'],
            macs=m, sops=s,
            measured=measured, paper=paper,
            energy_mJ=(measured if self.convention == 'measured'
                       else paper)['energy_mJ'])

    def _summary(self, layers):
        """The report's totals, shares and notes over ``layers``."""
        totals = {c: sum(layer[c]['energy_mJ'] for layer in layers)
                  for c in CONVENTIONS}
        other = 'trained' if self.flops_basis == 'deployed' else 'deployed'
        by_basis = {self.flops_basis: totals['paper'], other: sum(
            layer['paper'][f'energy_mJ_{other}_basis'] for layer in layers)}
        real = [layer for layer in layers if not layer['spike_input']
                and layer['source'] != 'input']
        dense = [layer for layer in real if layer['dense']]
        return dict(
            energy_mJ=totals[self.convention],
            convention=self.convention,
            flops_basis=self.flops_basis,
            conventions=totals,
            paper_by_flops_basis=by_basis,
            energy_model=dict(E_MAC_pJ=E_MAC_PJ, E_AC_pJ=E_AC_PJ),
            T=self.T,
            num_images=self.num_images,
            params=sum(p.numel() for p in self.model.parameters()),
            flops=sum(layer['flops'] for layer in layers),
            macs=sum(layer['macs'] for layer in layers),
            sops=sum(layer['sops'] for layer in layers),
            mean_firing_rate=_weighted_rate(layers),
            mean_events_per_neuron_step=_weighted_rate(
                layers, 'events_per_neuron_step'),
            rates=dict(
                firing_rate='the non-zero fraction of a synaptic layer\'s '
                'input per time step (the V2 paper\'s rate for 0/1 spikes; '
                'the paper convention bills real-valued backbone layers at '
                'it)',
                events_per_neuron_step='unit events per input neuron and '
                'time step: an integer count of k is k events (SpikeYOLO\'s '
                'rate, which includes D); equal to firing_rate for 0/1 '
                'spikes; the paper convention bills spike inputs at it'),
            # the rate the paper convention multiplies the FLOPs of a layer
            # that reads spikes by (I-LIF: events, not non-zeros)
            paper_rate='events_per_neuron_step',
            # dense layers (real values outside the spiking backbone: dense
            # necks and heads) are MACs in both conventions
            dense=dict(
                layers=[layer['name'] for layer in dense],
                share={c: (sum(layer[c]['energy_mJ'] for layer in dense) /
                           totals[c]) if totals[c] else 0.
                       for c in CONVENTIONS}),
            # synaptic layers past the encoder that read real values, not
            # spikes (SepConv's second 1x1 conv, dense necks and heads)
            non_spike_input=dict(
                layers=[layer['name'] for layer in real],
                share={c: (sum(layer[c]['energy_mJ'] for layer in real) /
                           totals[c]) if totals[c] else 0.
                       for c in CONVENTIONS}),
            layers=layers)

    def remove(self):
        self.recorder.remove()
        self.tracker.remove()


def energy_at_rate(report: dict, rate: float) -> dict:
    """The energy per image (mJ) of ``report``'s model if every synaptic
    layer past the encoder read inputs of mean rate ``rate`` (for weights
    whose rates are not a trained model's), in both conventions: measured
    (layers that read real values stay MACs, spike-fed layers do
    ``rate x steps x MACs`` ACs) and paper (its formula with ``rate``)."""
    if not 0 <= rate <= 1:
        raise ValueError(f'an assumed rate must be in [0, 1], got {rate}')
    measured = 0.
    paper = dict(deployed=0., trained=0.)
    for layer in report['layers']:
        p = layer['paper']
        per_step = dict(deployed=layer['macs_per_step'],
                        trained=layer['macs_per_step_trained'])
        for basis in paper:
            paper[basis] += per_step[basis] * (
                # the encoder: once; a dense layer: at each of its steps
                E_MAC_PJ * (layer['steps'] if layer.get('dense') else 1)
                if p['op'] == 'MAC' else
                rate * layer['steps'] * E_AC_PJ) * 1e-9
        if p['op'] == 'MAC':
            measured += layer['measured']['energy_mJ']
        elif layer['spike_input']:
            measured += rate * layer['steps'] * layer['macs_per_step'] * \
                E_AC_PJ * 1e-9
        else:
            measured += layer['measured']['energy_mJ']
    return dict(rate=rate, measured=measured,
                paper=paper[report['flops_basis']],
                paper_by_flops_basis=paper)


def _weighted_rate(layers, key='firing_rate'):
    """``key`` of the spike-fed layers, weighted by their FLOPs."""
    spk = [layer for layer in layers if layer['spike_input']]
    w = sum(layer['flops'] for layer in spk)
    if not w:
        return 0.
    return sum(layer[key] * layer['flops'] for layer in spk) / w


def format_table(report: dict, max_rows: Optional[int] = None) -> str:
    """The report as a fixed-width text table (with an ``events`` column,
    unit events per neuron and step, for a model of integer spikes)."""
    rows = report['layers']
    if max_rows is not None and len(rows) > max_rows:
        rows = sorted(rows, key=lambda r: -r['energy_mJ'])[:max_rows]
    counts = any(r.get('num_slots') for r in report['layers'])
    w = max([len(r['name']) for r in rows] + [5])
    ev = f' {"events":>6}' if counts else ''
    lines = [f'{"layer":<{w}}  {"type":<6} {"rate":>6}{ev} {"MACs":>12} '
             f'{"SOPs":>12} {"energy mJ":>11}']
    for r in rows:
        kind = r['type'] if r['spike_input'] or r['source'] == 'input' \
            else r['type'] + '*'
        r = dict(r, type=kind)
        e = '' if not counts else '      -' if \
            r['events_per_neuron_step'] is None else \
            f' {r["events_per_neuron_step"]:>6.3f}'
        lines.append(f'{r["name"]:<{w}}  {r["type"]:<6} '
                     f'{r["firing_rate"]:>6.3f}{e} {r["macs"]:>12.4g} '
                     f'{r["sops"]:>12.4g} {r["energy_mJ"]:>11.4g}')
    e = f' {report["mean_events_per_neuron_step"]:>6.3f}' if counts else ''
    lines.append(f'{"total":<{w}}  {"":<6} {report["mean_firing_rate"]:>6.3f}'
                 f'{e} {report["macs"]:>12.4g} {report["sops"]:>12.4g} '
                 f'{report["energy_mJ"]:>11.4g}')
    lines.append(f'params {report["params"] / 1e6:.3f} M, FLOPs '
                 f'{report["flops"] / 1e9:.3f} G, T={report["T"]}, '
                 f'{report["num_images"]} images')
    c = report['conventions']
    share = report['non_spike_input']['share']
    lines.append(
        f'energy / image: measured {c["measured"]:.4g} mJ, paper '
        f'{c["paper"]:.4g} mJ (FLOPs basis {report["flops_basis"]}); the '
        f'table shows {report["convention"]}. *: reads real values, not '
        f'spikes ({len(report["non_spike_input"]["layers"])} layers past '
        f'the encoder: {share["measured"]:.1%} of the measured energy, '
        f'{share["paper"]:.1%} of the paper\'s)')
    dense = report.get('dense')
    if dense and dense['layers']:
        lines.append(
            f'dense layers (real values outside the backbone: '
            f'{len(dense["layers"])}) are MACs in both conventions: '
            f'{dense["share"]["measured"]:.1%} of the measured energy, '
            f'{dense["share"]["paper"]:.1%} of the paper\'s; not comparable '
            'with the papers\' spiking-model tables')
    lines.append('paper convention: spike inputs billed at events per neuron '
                 'and step (= the non-zero rate for 0/1 spikes; I-LIF: '
                 'counts, SpikeYOLO\'s rate)')
    if counts:
        lines.append('rate: non-zero fraction of the input; events: unit '
                     'events per neuron and step (a count of k is k; '
                     'SpikeYOLO\'s rate). Counted in the binary form: one AC '
                     'per unit event and weight it reaches.')
    return '\n'.join(lines)


def plot_firing_rates(report: dict, path: str) -> str:
    """A PNG bar chart of the mean firing rate per layer."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in report['layers'] if r['source'] != 'input']
    fig, ax = plt.subplots(figsize=(max(8, 0.12 * len(rows)), 4))
    ax.bar(range(len(rows)), [r['firing_rate'] for r in rows],
           color=['tab:gray' if not r['spike_input'] else 'tab:orange'
                  if r['type'] == 'matmul' else 'tab:blue' for r in rows])
    ax.set_ylim(0, 1)
    ax.set_ylabel('input firing rate (non-zero fraction)')
    share = report['non_spike_input']['share'][report['convention']]
    ax.set_xlabel('synaptic layer (blue: conv/linear on spikes, orange: '
                  f'attention, gray: real-valued input, {share:.0%} of the '
                  'energy)')
    ax.set_title(f'Firing rates, T={report["T"]}, energy '
                 f'{report["energy_mJ"]:.4g} mJ/image ({report["convention"]}'
                 f' convention)')
    step = max(1, math.ceil(len(rows) / 40))
    ax.set_xticks(range(0, len(rows), step))
    ax.set_xticklabels([rows[i]['name'] for i in range(0, len(rows), step)],
                       rotation=90, fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
