"""The integer-valued LIF neuron (I-LIF; Luo et al., SpikeYOLO, ECCV 2024),
as ``neuron_cfg=dict(type='ILIF', max_spike_count=D)``.

spikingjelly's ``ILIFNode`` in multi-step mode: soft reset, no input decay,
and per time step an integer count ``C[t] = round(clip(H[t] / v_th, 0, D))``
instead of a 0/1 spike (a rectangular straight-through gradient on
``[0, D]``). Trained as counts; at inference each count is D binary event
slots (``C = sum_d S[t, d]``), so every downstream weight still does only
accumulates. Its outputs are counts, not spikes: they are never bit-packed
(:func:`~spikeformer_mm.models.packed_spikes.compact_spikes` keeps 0/1
tensors only).
"""
import torch
from spikingjelly.activation_based import neuron, surrogate

from ...registry import NEURONS
from .builder import require_above


@NEURONS.register_module(name='ILIF')
class MultiStepILIF(neuron.ILIFNode):
    """spikingjelly's ``ILIFNode`` (multi-step).

    Settings (``neuron_cfg``): ``max_spike_count`` (D, 4 in SpikeYOLO and
    E-SpikeFormer), ``tau`` (4/3: the membrane keeps ``1 - 1/tau = 0.25``
    of itself per step, the decay of SpikeYOLO's code), ``v_threshold``
    (1.0), ``detach_reset`` (False, as spikingjelly and SpikeYOLO).
    """
    defaults = dict(max_spike_count=4, tau=4.0 / 3.0, v_threshold=1.0,
                    detach_reset=False)

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepILIF':
        D = cfg['max_spike_count']
        if not isinstance(D, int) or isinstance(D, bool) or D < 1:
            raise ValueError(f'neuron_cfg: max_spike_count of ILIF must be '
                             f'an integer >= 1, got {D!r}')
        require_above(cfg, 1, 'tau')
        require_above(cfg, 0, 'v_threshold')
        return cls(tau=float(cfg['tau']),
                   v_threshold=float(cfg['v_threshold']),
                   surrogate_function=surrogate.MultiLevelSpikeCount(D),
                   detach_reset=bool(cfg['detach_reset']), step_mode='m')

    @property
    def max_spike_count(self) -> int:
        return int(self.surrogate_function.max_spike_count)


@NEURONS.register_module(name='QuantAct')
class MultiStepQuantAct(MultiStepILIF):
    """The (D+1)-level quantised activation ``round(clip(x / v_th, 0, D))``
    of each step's input, with no membrane: an I-LIF neuron that keeps
    nothing between steps (``H[t] = X[t]``; spikingjelly's I-LIF run one
    step at a time from a zero membrane, same gradient). The fair baseline
    spikingjelly's ``ILIFNode`` docstring asks I-LIF to be compared with; at
    T=1 the two are the same function. Its counts run in binary form as
    I-LIF's do.

    Settings: ``max_spike_count`` (D, 4) and ``v_threshold`` (1.0).
    """
    defaults = dict(max_spike_count=4, v_threshold=1.0)

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepQuantAct':
        # tau and the reset play no part: every step starts from v = 0
        return super().from_cfg(dict(cfg, tau=2.0, detach_reset=False))

    def multi_step_forward(self, x_seq, *args, **kwargs):
        steps = []
        for x in x_seq.split(1):
            self.reset()
            steps.append(super().multi_step_forward(x))
        self.reset()
        return torch.cat(steps)
