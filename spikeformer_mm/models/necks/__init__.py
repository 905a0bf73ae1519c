"""Necks. ``SpikingFPN`` builds on mmdet and is imported on first use
(:data:`spikeformer_mm.registry.ON_DEMAND`)."""
from ...registry import lazy_attribute
from .spike_to_dense import SpikeToDense, reduce_time

__all__ = ['SpikeToDense', 'reduce_time']


def __getattr__(name):
    return lazy_attribute(__name__, name)
