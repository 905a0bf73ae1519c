"""spikingjelly's other multi-step neurons, as ``neuron_cfg`` types.

``'IF'`` (integrate-and-fire, no leak: ``v = v + x``) and ``'PLIF'``
(parametric LIF, Fang et al. 2021: a learnable ``1/tau``, so it adds one
parameter ``w`` per neuron to the state_dict). They run spikingjelly's own
code; their outputs are marked as spikes for
:func:`~spikeformer_mm.models.packed_spikes.compact_spikes`.
"""
from spikingjelly.activation_based import neuron

from ...registry import NEURONS
from ..packed_spikes import mark_spikes
from .builder import build_surrogate, require_above

_COMMON = dict(v_threshold=1.0, v_reset=0.0, detach_reset=True,
               surrogate=dict(type='Sigmoid', alpha=4.0))


def _common_kwargs(cfg):
    require_above(cfg, 0, 'v_threshold')
    return dict(
        v_threshold=float(cfg['v_threshold']),
        v_reset=None if cfg['v_reset'] is None else float(cfg['v_reset']),
        surrogate_function=build_surrogate(cfg['surrogate']),
        detach_reset=cfg['detach_reset'], step_mode='m')


@NEURONS.register_module(name='IF')
class MultiStepIF(neuron.IFNode):
    """spikingjelly's ``IFNode`` in multi-step mode."""
    defaults = dict(_COMMON)

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepIF':
        return cls(**_common_kwargs(cfg))

    def multi_step_forward(self, x_seq, *args, **kwargs):
        return mark_spikes(super().multi_step_forward(x_seq, *args, **kwargs))


@NEURONS.register_module(name='PLIF')
class MultiStepParametricLIF(neuron.ParametricLIFNode):
    """spikingjelly's ``ParametricLIFNode`` in multi-step mode."""
    defaults = dict(_COMMON, init_tau=2.0, decay_input=True)

    @classmethod
    def from_cfg(cls, cfg: dict) -> 'MultiStepParametricLIF':
        require_above(cfg, 1, 'init_tau')
        return cls(init_tau=float(cfg['init_tau']),
                   decay_input=cfg['decay_input'], **_common_kwargs(cfg))

    def multi_step_forward(self, x_seq, *args, **kwargs):
        return mark_spikes(super().multi_step_forward(x_seq, *args, **kwargs))
