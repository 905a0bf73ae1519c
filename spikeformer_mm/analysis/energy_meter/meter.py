"""The energy meter: per layer MACs, SOPs and energy in both conventions
(measured, the papers'), per image."""
from collections import defaultdict

import torch
import torch.nn as nn

from ...validation import check_choice
from .rates import (FiringRateRecorder, SourceTracker, attention_neurons,
                    op_counters)


E_MAC_PJ = 4.6

E_AC_PJ = 0.9


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
        check_choice('convention', convention, CONVENTIONS)
        check_choice('flops_basis', flops_basis, FLOPS_BASES)
        self.convention, self.flops_basis = convention, flops_basis
        from ...deploy.binary_expansion import integer_neurons, is_binary_form
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
        self.sop, self.mac, self.flop = op_counters()
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
        scopes = self.flop.get_counts()
        if scopes and not any(s == self.prefix or s.startswith(
                self.prefix + '.') for s in scopes):
            # spikingjelly names modules from the module that was called:
            # a part called alone (model.extract_feat, model.backbone)
            # would leave every layer of the report without its FLOPs
            raise ValueError(
                f'EnergyMeter.run: the forward did not go through the '
                f'{self.prefix} the meter was built on (called: '
                f'{sorted(s.split(".")[0] for s in scopes)[:3]}); call the '
                f'model itself, e.g. model(**data, mode=\'predict\'), with '
                f'a new meter')
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
