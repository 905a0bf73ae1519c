"""spikeformer_mm: Meta-SpikeFormer (Spike-driven Transformer V2) on OpenMMLab.

Importing the package is cheap and never imports mmdet or mmsegmentation:
the models register themselves in the ``spikeformer_mm`` scope, which
mmengine imports on demand when a config names ``spikeformer_mm.<Type>``.
It changes nothing in mmengine but the toolchain repairs of
:mod:`spikeformer_mm.compat`; what a run loads and writes safely is named
in its config (``configs/_base_/safety.py``).
"""
from .version import __version__
from .registry import DATASETS, HOOKS, MODELS, NEURONS
from . import compat

compat.install()

__all__ = ['__version__', 'MODELS', 'HOOKS', 'DATASETS', 'NEURONS']
