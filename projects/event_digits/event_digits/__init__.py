"""Event-camera digits for spikeformer_mm (a project: loaded by its configs
with ``custom_imports``; nothing in ``spikeformer_mm`` imports it)."""
from .dataset import NMNISTEvents  # noqa: F401
from .emulator import EVENT_DTYPE, emulate  # noqa: F401
from .nmnist import read_events, write_bin  # noqa: F401
from .preprocessor import EventDataPreprocessor  # noqa: F401
from .transforms import EventsToFrames, LoadEvents, PackEventInputs  # noqa: F401
from .dvs import CIFAR10DVSEvents, DVSGestureEvents  # noqa: F401
