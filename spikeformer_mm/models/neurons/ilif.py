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

A fused CPU backend (``backend='fused'``, the default) gives the counts
and gradients of spikingjelly's CPU training path bit for bit (tested),
without its graph of about ten autograd nodes per step, float copies and
stacked step lists: it keeps one bool per neuron and step (the gradient
window) for backward. Why: with spikingjelly's path a training step of the
I-LIF demo classifier (T=1, D=4, batch 32) took 0.159 s against 0.118 s for
the LIF one at the same T; fused, 0.111 s against 0.108 s (AVX512 CPU, 2
threads). The membrane is kept in float32 whatever the input type (the
state type of spikingjelly's operator; its module keeps a bf16 membrane for
bf16 input).
"""
import torch
from spikingjelly.activation_based import neuron, surrogate

from ...registry import NEURONS
from .builder import require_above

ILIF_BACKENDS = ('fused', 'spikingjelly')


def _ilif_forward(x_seq, decay, v_th, D, lo, hi, need_window):
    """The I-LIF recurrence from a zero membrane, as spikingjelly's CPU
    operator computes it (``h = decay * v + x``, ``c = round(clamp(h / v_th,
    0, D))``, ``v = h - c * v_th``, in float32). Returns the counts in
    ``x_seq``'s dtype and, if ``need_window``, the bool mask of
    ``lo <= h / v_th <= hi`` (where the gradient passes)."""
    x = x_seq.float()  # no copy for float32
    T = x.shape[0]
    counts = torch.empty_like(x)
    window = torch.empty_like(x, dtype=torch.bool) if need_window else None
    scaled = torch.empty_like(x[0])
    v = None  # zero: decay * 0 + x is x exactly
    for t in range(T):
        h = x[t] if v is None else torch.mul(v, decay).add_(x[t])
        torch.div(h, v_th, out=scaled)
        if need_window:
            torch.ge(scaled, lo, out=window[t])
            window[t].logical_and_(scaled <= hi)
        torch.clamp(scaled, 0.0, D, out=counts[t]).round_()
        if t + 1 < T:
            v = h - counts[t] * v_th
    return counts.to(x_seq.dtype), window


class _FusedILIF(torch.autograd.Function):
    """Multi-step I-LIF as one autograd node: the forward keeps only the
    gradient window; the backward computes the gradient that autograd
    computes through spikingjelly's formula (its CPU training path), with
    the same roundings in the same order: per step, from the last,
    ``g_c = g_out - g_v * v_th`` (``g_out`` alone with ``detach_reset``),
    ``g_h = g_c * window / v_th + g_v``, and ``g_v = g_h * decay`` for the
    step before."""

    @staticmethod
    def forward(ctx, x_seq, decay, v_th, D, lo, hi, detach_reset):
        counts, window = _ilif_forward(x_seq, decay, v_th, D, lo, hi, True)
        ctx.save_for_backward(window)
        ctx.cfg = (decay, v_th, detach_reset)
        return counts

    @staticmethod
    def backward(ctx, grad_counts):
        (window, ) = ctx.saved_tensors
        decay, v_th, detach_reset = ctx.cfg
        gs = grad_counts.float()
        grad_x = torch.empty_like(grad_counts)
        g_v = None  # the final membrane is never read: no gradient
        for t in range(window.shape[0] - 1, -1, -1):
            g_c = gs[t] if g_v is None or detach_reset \
                else gs[t] - g_v * v_th
            g_h = g_c * window[t]
            if v_th != 1.0:  # x / 1 is x: skip the pass
                g_h.div_(v_th)
            if g_v is not None:
                g_h.add_(g_v)
            grad_x[t] = g_h
            if t:
                g_v = g_h * decay
        return grad_x, None, None, None, None, None, None


@NEURONS.register_module(name='ILIF')
class MultiStepILIF(neuron.ILIFNode):
    """spikingjelly's ``ILIFNode`` (multi-step) with a fused CPU path.

    Settings (``neuron_cfg``): ``max_spike_count`` (D, 4 in SpikeYOLO and
    E-SpikeFormer), ``tau`` (4/3: the membrane keeps ``1 - 1/tau = 0.25``
    of itself per step, the decay of SpikeYOLO's code), ``v_threshold``
    (1.0), ``detach_reset`` (False, as spikingjelly and SpikeYOLO),
    ``backend`` (``'fused'``: on the CPU from a zero membrane the fused
    path, else spikingjelly's; ``'spikingjelly'``: always spikingjelly's).
    The fused path leaves ``neuron.v`` at zero: every model here resets its
    neurons at each forward, so the membrane after the last step is never
    read.
    """
    defaults = dict(max_spike_count=4, tau=4.0 / 3.0, v_threshold=1.0,
                    detach_reset=False, backend='fused')
    type_name = 'ILIF'

    def __init__(self, *args, fused=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fused = fused

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepILIF':
        D = cfg['max_spike_count']
        if not isinstance(D, int) or isinstance(D, bool) or D < 1:
            raise ValueError(f'neuron_cfg: max_spike_count of ILIF must be '
                             f'an integer >= 1, got {D!r}')
        require_above(cfg, 1, 'tau')
        require_above(cfg, 0, 'v_threshold')
        if cfg['backend'] not in ILIF_BACKENDS:
            raise ValueError(f'neuron_cfg: backend of {cls.type_name} must '
                             f'be one of {ILIF_BACKENDS}, got '
                             f'{cfg["backend"]!r}')
        return cls(tau=float(cfg['tau']),
                   v_threshold=float(cfg['v_threshold']),
                   surrogate_function=surrogate.MultiLevelSpikeCount(D),
                   detach_reset=bool(cfg['detach_reset']), step_mode='m',
                   fused=cfg['backend'] == 'fused')

    @property
    def max_spike_count(self) -> int:
        return int(self.surrogate_function.max_spike_count)

    def _can_fuse(self, x_seq, args, kwargs):
        sf = self.surrogate_function
        return (self.fused and not args and not kwargs and not x_seq.is_cuda
                and x_seq.dtype in (torch.float32, torch.bfloat16,
                                    torch.float16)
                and isinstance(self.v, float) and self.v == 0.0
                and not self.store_v_seq
                and not torch.onnx.is_in_onnx_export()
                and type(sf) is surrogate.MultiLevelSpikeCount and sf.spiking)

    def _fused(self, x_seq):
        sf = self.surrogate_function
        args = (1.0 - 1.0 / float(self.tau), float(self.v_threshold),
                float(sf.max_spike_count), float(sf.grad_min),
                float(sf.grad_max))
        if torch.is_grad_enabled() and x_seq.requires_grad:
            return _FusedILIF.apply(x_seq, *args, bool(self.detach_reset))
        return _ilif_forward(x_seq, *args, False)[0]

    def multi_step_forward(self, x_seq, *args, **kwargs):
        if self._can_fuse(x_seq, args, kwargs):
            return self._fused(x_seq)
        return super().multi_step_forward(x_seq, *args, **kwargs)

    def extra_repr(self):
        return super().extra_repr() + f', fused={self.fused}'


@NEURONS.register_module(name='QuantAct')
class MultiStepQuantAct(MultiStepILIF):
    """The (D+1)-level quantised activation ``round(clip(x / v_th, 0, D))``
    of each step's input, with no membrane: an I-LIF neuron that keeps
    nothing between steps (``H[t] = X[t]``; spikingjelly's I-LIF run one
    step at a time from a zero membrane, same gradient). The fair baseline
    spikingjelly's ``ILIFNode`` docstring asks I-LIF to be compared with; at
    T=1 the two are the same function. Its counts run in binary form as
    I-LIF's do.

    Settings: ``max_spike_count`` (D, 4), ``v_threshold`` (1.0) and
    ``backend`` (as I-LIF's; fused, all T steps are one step of T times
    the neurons).
    """
    defaults = dict(max_spike_count=4, v_threshold=1.0, backend='fused')
    type_name = 'QuantAct'

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepQuantAct':
        # tau and the reset play no part: every step starts from v = 0
        return super().from_cfg(dict(cfg, tau=2.0, detach_reset=False))

    def multi_step_forward(self, x_seq, *args, **kwargs):
        if self._can_fuse(x_seq, args, kwargs):
            # no membrane: the T steps are one step of the T x N neurons
            return self._fused(x_seq.reshape(1, -1)).view_as(x_seq)
        steps = []
        for x in x_seq.split(1):
            self.reset()
            steps.append(super().multi_step_forward(x))
        self.reset()
        return torch.cat(steps)


@NEURONS.register_module(name='NILIF')
class MultiStepNILIF(MultiStepILIF):
    """The normalised integer LIF of Spike2Former (Lei et al., AAAI 2025):
    I-LIF with its membrane over T steps, each step's count divided by
    ``norm`` (D by default), so that the output lies in ``[0, 1]`` as
    E-SpikeFormer's ``MultiSpike`` does. At T=1 it is V3's ``MultiSpike``
    (``round(clip(x / v_th, 0, D)) / D``; Spike2Former's own code uses that
    quantiser, ``MultiSpike_norm4``); at T>1 the membrane carries what a
    step did not emit (soft reset by the count times the threshold). Its
    counts run spike-driven as I-LIF's do, with weights ``W / norm``.

    Settings: I-LIF's, and ``norm`` (None: D).
    """
    defaults = dict(MultiStepILIF.defaults, norm=None)
    type_name = 'NILIF'

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepNILIF':
        cfg = dict(cfg)
        norm = cfg.pop('norm')
        if norm is not None:
            require_above(dict(norm=norm), 0, 'norm')
        node = super().from_cfg(cfg)
        node.norm = float(cfg['max_spike_count'] if norm is None else norm)
        return node

    def multi_step_forward(self, x_seq, *args, **kwargs):
        return super().multi_step_forward(x_seq, *args, **kwargs) / self.norm

    def extra_repr(self):
        return super().extra_repr() + f', norm={self.norm:g}'
