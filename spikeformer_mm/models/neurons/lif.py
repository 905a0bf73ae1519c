"""The paper's neuron: multi-step LIF with spikingjelly's semantics and a
fused CPU backend (Yao et al., ICLR 2024, Sec. 3 and the official code)::

    v[t] = v[t-1] + (x[t] - v[t-1]) / tau        # decay_input=True
    s[t] = heaviside(v[t] - v_threshold)           # surrogate: Sigmoid(alpha=4)
    v[t] = v_reset where s[t] == 1                 # hard reset, detached

spikingjelly's ``LIFNode`` in multi-step mode, subclassed by
:class:`MultiStepLIF` for the ``'fused'`` backend (identical spikes and
gradients, tested); it holds no parameters, so it never appears in a
state_dict. Registered as ``type='LIF'``, the default of ``neuron_cfg``.
"""
import math

import torch
from spikingjelly.activation_based import neuron, surrogate

from ...registry import NEURONS
from ..packed_spikes import mark_spikes
from .builder import build_surrogate, require_above

# The paper's neuron (docs/model.md, "The neuron"). Change these only
# through ``neuron_cfg`` arguments, never by editing a layer.
LIF_DEFAULTS = dict(
    tau=2.0,
    v_threshold=1.0,
    v_reset=0.0,
    decay_input=True,
    detach_reset=True,
    surrogate=dict(type='Sigmoid', alpha=4.0),
    # implementation, not model: 'fused' (this project's CPU path; on CUDA
    # spikingjelly's kernels) or 'spikingjelly' (always spikingjelly's)
    backend='fused',
    # implementation: every model here resets its neurons at the start of
    # each forward, so the membrane left after the last step is never read;
    # the fused backend skips computing it (True keeps it in ``neuron.v``)
    keep_final_v=False,
)
LIF_BACKENDS = ('fused', 'spikingjelly')


# --------------------------------------------------------------- fast path
def _hard_reset(h, s, v_reset):
    """h where s == 0, v_reset where s == 1, exactly: h - h * s for the
    paper's v_reset = 0 (one fused op, several times faster than
    ``masked_fill`` on a CPU)."""
    if v_reset == 0.0:
        return torch.addcmul(h, h, s.to(h.dtype), value=-1.0)
    return h.masked_fill(s.bool(), v_reset)


def _exact_scale(k):
    """True if multiplying by ``k`` is exact in every float type (a power of
    two: 1/tau for the paper's tau = 2)."""
    return k > 0 and math.frexp(k)[0] == 0.5


def _lif_forward(x_seq, tau, v_th, v_reset, decay_input, out_dtype,
                 need_h, need_v):
    """The LIF recurrence from a reset state with in-place ops.

    Returns ``(spikes, h_seq, v_last)``: the pre-spike potentials ``h_seq``
    only if ``need_h`` (for backward), the final membrane ``v_last`` only if
    ``need_v`` (else ``None``). Spikes keep the memory layout of ``x_seq``
    (``empty_like``), so a ``channels_last`` model stays ``channels_last``.
    """
    T = x_seq.shape[0]
    decay = 1.0 - 1.0 / tau
    k_in = 1.0 / tau if decay_input else 1.0
    # comparisons write float spikes directly: on CPUs a bool tensor and
    # its conversion cost several times the comparison itself
    spikes = torch.empty_like(x_seq, dtype=out_dtype)  # same layout
    if T == 1 and not (need_h or need_v) and v_reset == 0.0 and \
            _exact_scale(k_in):
        # one step, nothing kept: x k >= th  <=>  x >= th / k exactly when
        # k is a power of two, so one comparison replaces three passes
        torch.ge(x_seq[0], v_th / k_in, out=spikes[0])
        return spikes, None, None
    h_seq = torch.empty_like(x_seq) if need_h else None
    scratch = None if need_h else torch.empty_like(x_seq[0])
    v = None  # the reset state, v_reset, before the first step
    for t in range(T):
        h = h_seq[t] if need_h else scratch
        torch.mul(x_seq[t], k_in, out=h)
        if v is None:
            if v_reset != 0.0:
                h.add_(v_reset)  # v0 + (1 - 1/tau)(v0 - v_r) = v_r
        else:
            h.add_(v, alpha=decay)
            if v_reset != 0.0:
                h.add_(v_reset / tau)
        torch.ge(h, v_th, out=spikes[t])
        if t + 1 < T or need_v:
            v = _hard_reset(h, spikes[t], v_reset)
    return spikes, h_seq, (v if need_v else None)


class _FusedLIF(torch.autograd.Function):
    """Multi-step LIF with hard reset and a sigmoid surrogate as one autograd
    node. The forward runs the recurrence with in-place ops and keeps only
    the pre-spike potentials H[t]; the backward computes the surrogate
    derivative for all steps at once and runs only the two-term gradient
    recurrence per step. spikingjelly's CPU path builds a graph of several
    ops per time step; this builds none (same spikes, same gradients: tested
    against it). Under bf16 autocast the potentials arrive, are saved and
    are differentiated in bf16: no cast in either direction."""

    @staticmethod
    def forward(ctx, x_seq, tau, v_th, v_reset, alpha, decay_input,
                detach_reset, out_dtype, need_v=True):
        spikes, h_seq, v_last = _lif_forward(
            x_seq, tau, v_th, v_reset, decay_input, out_dtype, True, need_v)
        ctx.save_for_backward(h_seq)
        ctx.cfg = (tau, v_th, v_reset, alpha, decay_input, detach_reset)
        return spikes, v_last

    @staticmethod
    def backward(ctx, grad_spikes, grad_v_last):
        (h_seq, ) = ctx.saved_tensors
        tau, v_th, v_reset, alpha, decay_input, detach_reset = ctx.cfg
        decay = 1.0 - 1.0 / tau
        sig = torch.sigmoid((h_seq - v_th) * alpha)
        sg = sig.mul_(1.0 - sig).mul_(alpha)  # surrogate derivative, all t
        grad_h = grad_spikes * sg
        T = h_seq.shape[0]
        if T > 1 or grad_v_last is not None:
            dv_dh = torch.lt(h_seq, v_th, out=torch.empty_like(h_seq))
            if not detach_reset:
                dv_dh.addcmul_(v_reset - h_seq, sg)
            grad_v = grad_v_last
            for t in range(T - 1, -1, -1):
                if grad_v is not None:
                    grad_h[t].addcmul_(grad_v, dv_dh[t])
                grad_v = grad_h[t] * decay
        if decay_input:
            grad_h.mul_(1.0 / tau)
        return grad_h, None, None, None, None, None, None, None, None


def unrolled_lif(x_seq: torch.Tensor, node: neuron.LIFNode) -> torch.Tensor:
    """The LIF recurrence of ``node`` from a reset state, unrolled over
    ``T = x_seq.shape[0]`` as plain tensor ops (multiply, add, compare,
    where): what ONNX export records, so that any runtime runs the neuron
    without custom ops. Forward only (no surrogate gradient)."""
    tau, v_th = float(node.tau), float(node.v_threshold)
    v_reset = 0.0 if node.v_reset is None else float(node.v_reset)
    soft = node.v_reset is None
    k_in = 1.0 / tau if node.decay_input else 1.0
    decay = 1.0 - 1.0 / tau
    v = None
    spikes = []
    for t in range(x_seq.shape[0]):
        if v is None:  # v0 = v_reset: h = v_r + k x (decay_input: (x)/tau)
            h = x_seq[t] * k_in + v_reset if v_reset else x_seq[t] * k_in
        else:
            h = v * decay + x_seq[t] * k_in
            if v_reset:
                h = h + v_reset / tau
        s = (h >= v_th).to(x_seq.dtype)
        spikes.append(s)
        if soft:
            v = h - s * v_th
        else:
            v = torch.where(s > 0, torch.full_like(h, v_reset), h)
    return torch.stack(spikes)


@NEURONS.register_module(name='LIF')
class MultiStepLIF(neuron.LIFNode):
    """spikingjelly's ``LIFNode`` (multi-step) with a fused CPU path.

    With ``backend='fused'``: on CUDA, spikingjelly's own CUDA/Triton
    kernels run; on the CPU, from a reset state, with hard reset and the
    sigmoid surrogate (the paper's neuron), :class:`_FusedLIF` runs instead;
    any other case falls back to spikingjelly. ``backend='spikingjelly'``
    (``fused=False``) always uses spikingjelly.

    With ``keep_final_v=False`` the fused path does not compute the membrane
    left after the last step: ``neuron.v`` stays at the reset value, so each
    call starts from the reset state (the models here reset every neuron at
    each forward anyway). Without gradients nothing else is kept either,
    and a single step with the paper's ``tau = 2`` is one comparison.
    """

    defaults = LIF_DEFAULTS

    def __init__(self, *args, fused=True, keep_final_v=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fused = fused
        self.keep_final_v = keep_final_v

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepLIF':
        """Build from a complete ``neuron_cfg`` (the defaults merged in)."""
        require_above(cfg, 1, 'tau',
                      why=' (the membrane decays by 1/tau per step)')
        require_above(cfg, 0, 'v_threshold')
        if cfg['backend'] not in LIF_BACKENDS:
            raise ValueError(f'neuron_cfg: backend of LIF must be one of '
                             f'{LIF_BACKENDS}, got {cfg["backend"]!r}')
        return cls(
            tau=float(cfg['tau']),
            decay_input=cfg['decay_input'],
            v_threshold=float(cfg['v_threshold']),
            v_reset=None if cfg['v_reset'] is None else float(cfg['v_reset']),
            surrogate_function=build_surrogate(cfg['surrogate']),
            detach_reset=cfg['detach_reset'],
            step_mode='m',
            fused=cfg['backend'] == 'fused',
            keep_final_v=cfg['keep_final_v'])

    def _can_fuse(self, x_seq):
        return (self.fused and not x_seq.is_cuda and self.v_reset is not None
                and isinstance(self.v, float)
                and type(self.surrogate_function) is surrogate.Sigmoid
                and self.surrogate_function.spiking)

    def multi_step_forward(self, x_seq, *args, **kwargs):
        if torch.onnx.is_in_onnx_export() and not args and not kwargs:
            return unrolled_lif(x_seq, self)
        if args or kwargs or not self._can_fuse(x_seq):
            return mark_spikes(
                super().multi_step_forward(x_seq, *args, **kwargs))
        # Spikes are exact in any float type: under CPU autocast they are
        # made in the autocast type, so the next conv needs no cast.
        out_dtype = x_seq.dtype
        if torch.is_autocast_enabled('cpu') and x_seq.is_floating_point():
            out_dtype = torch.get_autocast_dtype('cpu')
        args = (float(self.tau), float(self.v_threshold), float(self.v_reset))
        if torch.is_grad_enabled() and x_seq.requires_grad:
            spikes, v = _FusedLIF.apply(
                x_seq, *args, float(self.surrogate_function.alpha),
                bool(self.decay_input), bool(self.detach_reset), out_dtype,
                self.keep_final_v)
        else:  # no autograd node, no saved potentials
            spikes, _, v = _lif_forward(x_seq, *args, bool(self.decay_input),
                                        out_dtype, False, self.keep_final_v)
        if v is not None:
            self.v = v
        return mark_spikes(spikes)

    def extra_repr(self):
        return super().extra_repr() + \
            f', fused={self.fused}, keep_final_v={self.keep_final_v}'
