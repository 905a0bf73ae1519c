"""E-SpikeFormer's normalised integer neuron (Spike-driven Transformer V3,
Yao et al., TPAMI 2025), as ``neuron_cfg=dict(type='MultiSpike', ...)``.

V3 replaces every neuron by ``MultiSpike``: an integer count
``C = round(clip(x, 0, D))`` of the input, divided by ``norm`` (``D`` by
default, so the output lies in ``[0, 1]``), with a straight-through
gradient inside the clipping window. It has no membrane (V3 trains at T=1;
at T > 1 each step is quantised on its own, as V3's large model does when
its ``T`` is raised), so it is spikingjelly's I-LIF run one step at a time
from a zero membrane (:class:`~.ilif.MultiStepQuantAct`), scaled by
``1 / norm``. Its counts run spike-driven as I-LIF's do: each count ``k``
is ``k`` unit events reaching weights ``W / norm``.

The two model files of V3's repository differ in two details, both
settings here so that each is reproduced exactly:

==============  =================================  ===========================
setting         ``Model_Base/models.py`` (5-19M)   ``Model_Large/spikformer.py``
==============  =================================  ===========================
``rounding``    ``'half_even'`` (``torch.round``)  ``'half_up'`` (``floor(x + 0.5)``)
``grad_window`` ``'closed'``: ``0 <= x <= D``      ``'open'``: ``0 < x < D``
==============  =================================  ===========================
"""
import torch
from spikingjelly.activation_based import base

from ...registry import NEURONS
from .builder import require_above

ROUNDINGS = ('half_even', 'half_up')
GRAD_WINDOWS = ('closed', 'open')


class _Quantise(torch.autograd.Function):
    """``round(clamp(x, 0, D))`` with the straight-through gradient of V3's
    ``Quant`` / ``multispike`` (1 inside the window, 0 outside)."""

    @staticmethod
    def forward(ctx, x, D, half_up, open_window):
        c = torch.clamp(x, 0, D)
        counts = torch.floor(c + 0.5) if half_up else torch.round(c)
        if ctx.needs_input_grad[0]:
            inside = (x > 0) & (x < D) if open_window else (x >= 0) & (x <= D)
            ctx.save_for_backward(inside)
        return counts

    @staticmethod
    def backward(ctx, grad):
        inside, = ctx.saved_tensors
        return grad * inside.to(grad.dtype), None, None, None


@NEURONS.register_module(name='MultiSpike')
class MultiStepMultiSpike(base.MemoryModule):
    """``round(clip(x / v_threshold, 0, D)) / norm`` of each time step's
    input (``[T, ...]``), no membrane (module docstring).

    Settings: ``max_spike_count`` (D, 4), ``norm`` (None: D; V3's head
    uses 1), ``v_threshold`` (1.0; the attention's neuron gets the
    toolbox's attention threshold only through ``build_neuron``'s per-layer
    override, which V3's layers do not ask for), ``rounding`` and
    ``grad_window`` (V3's two model files, module docstring).
    """
    defaults = dict(max_spike_count=4, norm=None, v_threshold=1.0,
                    rounding='half_even', grad_window='closed')
    type_name = 'MultiSpike'

    def __init__(self, max_spike_count=4, norm=None, v_threshold=1.0,
                 rounding='half_even', grad_window='closed'):
        super().__init__()
        self.step_mode = 'm'
        self.max_spike_count = int(max_spike_count)
        self.norm = float(max_spike_count if norm is None else norm)
        self.v_threshold = float(v_threshold)
        self.half_up = rounding == 'half_up'
        self.open_window = grad_window == 'open'
        self.rounding, self.grad_window = rounding, grad_window

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepMultiSpike':
        require_above(cfg, 0, 'max_spike_count', 'v_threshold')
        if cfg['norm'] is not None:
            require_above(cfg, 0, 'norm')
        for key, choices in (('rounding', ROUNDINGS),
                             ('grad_window', GRAD_WINDOWS)):
            if cfg[key] not in choices:
                raise ValueError(f'neuron_cfg: {key} must be one of '
                                 f'{choices}, got {cfg[key]!r}')
        return cls(**cfg)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        x = x_seq if self.v_threshold == 1.0 else x_seq / self.v_threshold
        counts = _Quantise.apply(x, float(self.max_spike_count),
                                 self.half_up, self.open_window)
        return counts if self.norm == 1.0 else counts / self.norm

    def extra_repr(self):
        return (f'D={self.max_spike_count}, norm={self.norm:g}, '
                f'v_threshold={self.v_threshold:g}, rounding={self.rounding}'
                f', grad_window={self.grad_window}')
