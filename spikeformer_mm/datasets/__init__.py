"""Datasets of spikeformer_mm: the embedded digits data for each task.

Each task's dataset class lives in its own module, which imports its
toolbox (mmpretrain, mmdet, mmseg) only when that dataset is used.
"""
from .digits import build_dataset, ensure_dataset, verify_dataset

__all__ = ['build_dataset', 'ensure_dataset', 'verify_dataset']

_LAZY = {
    'DigitsClassification': '.classification',
    'DigitsDetection': '.detection',
    'DigitsSegmentation': '.segmentation',
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(name)
