"""Models of spikeformer_mm: the neuron, the spiking layers, the backbone,
necks and heads, each in its own module.

The backbone and necks need only torch and mmengine and are imported here;
the classification head and the distiller build on mmpretrain, the
spiking detection neck and heads on mmdet, and they are imported on first
use (``from spikeformer_mm.models import SpikingClsHead``
or a config naming them), so that a detection or segmentation run never
imports mmpretrain (see ``spikeformer_mm.registry``).
"""
import importlib

from .backbones import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .neurons import NEURON_DEFAULTS, build_neuron  # noqa: F401

# name -> sub-module, imported on first access
_ON_DEMAND = {'SpikingClsHead': '.heads',
              'SpikingRPNHead': '.heads',
              'SpikingRoIHead': '.heads',
              'SpikingShared2FCBBoxHead': '.heads',
              'SpikingFCNMaskHead': '.heads',
              'SpikingFPN': '.necks',
              'DistillImageClassifier': '.classifiers',
              'TimmTeacher': '.classifiers'}


def __getattr__(name):
    if name in _ON_DEMAND:
        return getattr(importlib.import_module(_ON_DEMAND[name], __name__),
                       name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
