"""The spiking neuron of the project, defined once.

Every spiking layer builds its neurons through :func:`build_neuron`, so the
defaults below are the only place where the neuron of the paper is written
down: a multi-step leaky integrate-and-fire (LIF) neuron with spikingjelly's
semantics (Yao et al., ICLR 2024, Sec. 3 and the official code)::

    v[t] = v[t-1] + (x[t] - v[t-1]) / tau        # decay_input=True
    s[t] = heaviside(v[t] - v_threshold)           # surrogate: Sigmoid(alpha=4)
    v[t] = v_reset where s[t] == 1                 # hard reset, detached

The neuron is spikingjelly's ``LIFNode`` in multi-step mode; it holds no
parameters, so it never appears in a state_dict.
"""
import copy

import torch.nn as nn
from spikingjelly.activation_based import neuron, surrogate

# The paper's neuron (DESIGN.md, "Neuron"). Change these only through
# ``neuron_cfg`` arguments, never by editing a layer.
NEURON_DEFAULTS = dict(
    tau=2.0,
    v_threshold=1.0,
    v_reset=0.0,
    decay_input=True,
    detach_reset=True,
    surrogate=dict(type='Sigmoid', alpha=4.0),
)

# The neuron after the attention product fires at half the usual threshold.
ATTENTION_THRESHOLD = 0.5


def build_surrogate(cfg):
    """Build a spikingjelly surrogate function from ``dict(type=..., **kw)``."""
    if isinstance(cfg, nn.Module):
        return cfg
    cfg = dict(cfg)
    name = cfg.pop('type')
    fn = getattr(surrogate, name, None)
    if fn is None or not isinstance(fn, type):
        raise ValueError(f'neuron_cfg.surrogate: unknown spikingjelly '
                         f'surrogate {name!r}')
    return fn(**cfg)


def merge_neuron_cfg(neuron_cfg=None, **overrides):
    """Return the paper's defaults updated by ``neuron_cfg`` and overrides."""
    cfg = copy.deepcopy(NEURON_DEFAULTS)
    unknown = set(neuron_cfg or {}) - set(cfg) - {'type'}
    if unknown:
        raise ValueError(f'neuron_cfg: unknown keys {sorted(unknown)}; '
                         f'valid keys are {sorted(cfg)}')
    cfg.update(neuron_cfg or {})
    cfg.update(overrides)
    cfg.pop('type', None)
    return cfg


def build_neuron(neuron_cfg=None, **overrides):
    """Build one multi-step LIF neuron (``step_mode='m'``, input ``[T, ...]``).

    Args:
        neuron_cfg (dict, optional): overrides of :data:`NEURON_DEFAULTS`.
        **overrides: per-layer overrides (``v_threshold=0.5`` for the
            attention neuron).
    """
    cfg = merge_neuron_cfg(neuron_cfg, **overrides)
    return neuron.LIFNode(
        tau=float(cfg['tau']),
        decay_input=cfg['decay_input'],
        v_threshold=float(cfg['v_threshold']),
        v_reset=None if cfg['v_reset'] is None else float(cfg['v_reset']),
        surrogate_function=build_surrogate(cfg['surrogate']),
        detach_reset=cfg['detach_reset'],
        step_mode='m')


def is_neuron(module):
    """True for the neurons this project builds (any spikingjelly node)."""
    from spikingjelly.activation_based.base import MemoryModule
    return isinstance(module, MemoryModule)
