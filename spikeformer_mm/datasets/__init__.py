"""Datasets of spikeformer_mm: the embedded digits data for each task.

Each task's dataset class lives in its own module, which imports its
toolbox (mmpretrain, mmdet, mmseg) only when that dataset is used.
"""
from ..registry import lazy_attribute
from .digits import (build_dataset, dataset_digest, ensure_dataset,
                     verify_dataset)

__all__ = ['build_dataset', 'dataset_digest', 'ensure_dataset',
           'verify_dataset']



def __getattr__(name):
    # DigitsClassification, ...: see spikeformer_mm.registry.ON_DEMAND
    return lazy_attribute(__name__, name)
