"""spikeformer_mm: Meta-SpikeFormer (Spike-driven Transformer V2) on OpenMMLab.

Importing the package is cheap and never imports mmdet or mmsegmentation:
the models register themselves in the ``spikeformer_mm`` scope, which
mmengine imports on demand when a config names ``spikeformer_mm.<Type>``.
"""
from .version import __version__
from .registry import DATASETS, HOOKS, MODELS
from . import compat

compat.install()

__all__ = ['__version__', 'MODELS', 'HOOKS', 'DATASETS']
