"""Building neurons from ``neuron_cfg``: the one entry point of every layer.

``neuron_cfg`` is ``dict(type=NAME, **settings)``; ``type`` names a neuron
of the :data:`~spikeformer_mm.registry.NEURONS` registry (``'LIF'``, the
paper's, when left out). Each registered class declares its settings and
their defaults (``defaults``) and builds itself from the merged dict
(``from_cfg``). A new neuron is one module in this folder with one
``@NEURONS.register_module(name=...)`` class, added to the table of
:mod:`spikeformer_mm.models.neurons`.
"""
import copy
from typing import Optional

import torch.nn as nn
from spikingjelly.activation_based import surrogate

from ...registry import NEURONS

DEFAULT_NEURON = 'LIF'


def build_surrogate(cfg) -> nn.Module:
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


def neuron_class(name: str) -> type:
    """The registered neuron class called ``name``; an unknown name is
    refused with the valid choices."""
    cls = NEURONS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f'neuron_cfg.type: unknown neuron {name!r}; '
                         f'choose one of {sorted(NEURONS.module_dict)}')
    return cls


def merge_neuron_cfg(neuron_cfg: Optional[dict] = None, **overrides) -> dict:
    """The defaults of ``neuron_cfg['type']`` (``'LIF'`` when absent)
    updated by ``neuron_cfg`` and the per-layer overrides; ``type`` is kept.
    Settings the neuron does not have are refused, naming the valid ones."""
    cfg = dict(neuron_cfg or {})
    name = cfg.pop('type', DEFAULT_NEURON)
    cls = neuron_class(name)
    merged = copy.deepcopy(cls.defaults)
    for source, what in ((cfg, 'keys'), (overrides, 'per-layer settings')):
        unknown = set(source) - set(merged)
        if unknown:
            raise ValueError(f'neuron_cfg: unknown {what} {sorted(unknown)} '
                             f'for the {name} neuron; valid keys are '
                             f'{sorted(merged)}')
        merged.update(source)
    merged['type'] = name
    return merged


def build_neuron(neuron_cfg: Optional[dict] = None, **overrides) -> nn.Module:
    """Build one multi-step neuron (``step_mode='m'``, input ``[T, ...]``).

    Args:
        neuron_cfg (dict, optional): ``type`` (a registered neuron, default
            ``'LIF'``) and overrides of that neuron's ``defaults``.
        **overrides: per-layer settings (``v_threshold=0.5`` for the
            attention neuron).
    """
    cfg = merge_neuron_cfg(neuron_cfg, **overrides)
    cls = neuron_class(cfg.pop('type'))
    return cls.from_cfg(cfg)


def require_above(cfg: dict, low: float, *names: str, why: str = '') -> None:
    """Raise ``ValueError`` naming the setting unless each ``cfg[name]`` is
    above ``low`` (spikingjelly only asserts such settings)."""
    for name in names:
        if not float(cfg[name]) > low:
            raise ValueError(f'neuron_cfg: {name} must be > {low:g}{why}, '
                             f'got {cfg[name]}')


def is_neuron(module: nn.Module) -> bool:
    """True for the neurons this project builds (any spikingjelly node)."""
    from spikingjelly.activation_based.base import MemoryModule
    return isinstance(module, MemoryModule)
