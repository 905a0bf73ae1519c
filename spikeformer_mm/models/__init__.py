"""Models of spikeformer_mm: the neuron, the spiking layers, the backbone,
necks and heads, each in its own module.

The backbone and necks need only torch and mmengine and are imported here;
the modules that build on mmpretrain or mmdet are imported on first use
(the table :data:`spikeformer_mm.registry.ON_DEMAND`), so that a detection
or segmentation run never imports mmpretrain.
"""
from ..registry import lazy_attribute
from .backbones import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .neurons import NEURON_DEFAULTS, build_neuron  # noqa: F401
from .strict_loading import (IncompleteWeightsError,  # noqa: F401
                             lenient_loading)


def __getattr__(name):
    return lazy_attribute(__name__, name)
