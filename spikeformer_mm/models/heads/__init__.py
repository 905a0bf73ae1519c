"""Heads, each imported on first use (the classification head builds on
mmpretrain, the spiking detection heads on mmdet): see
:data:`spikeformer_mm.registry.ON_DEMAND`."""
from ...registry import lazy_attribute


def __getattr__(name):
    return lazy_attribute(__name__, name)
