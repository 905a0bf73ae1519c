"""Necks. ``SpikingFPN`` builds on mmdet and is imported on first use."""
import importlib

from .spike_to_dense import SpikeToDense, reduce_time

__all__ = ['SpikeToDense', 'reduce_time']  # SpikingFPN: on first use


def __getattr__(name):
    if name == 'SpikingFPN':
        return importlib.import_module('.spiking_fpn', __name__).SpikingFPN
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
