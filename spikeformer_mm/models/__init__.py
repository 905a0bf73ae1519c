"""Models of spikeformer_mm: the neuron, the spiking layers, the backbone,
necks and heads, each in its own module. Importing this package registers
them in the ``spikeformer_mm`` scope."""
from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .neurons import NEURON_DEFAULTS, build_neuron  # noqa: F401
