"""Checkpoints: safe reading and atomic writing (:mod:`.files`), strict
loading into a model (:mod:`.loading`), and the papers' formats with their
converters (:mod:`.official`: V2's; :mod:`.official_v3`: E-SpikeFormer's).

This package sits above :mod:`spikeformer_mm.models` and below the zoo and
the apis: it reads local files only, and imports neither the zoo nor the
models at module level.
"""
from .loading import CheckpointMismatchError, load_weights
from .official import (convert_official, load_official, official_arch,
                       official_to_mm_key)
from .official_v3 import convert_v3, v3_arch
from .files import (UnsafeCheckpointError, is_complete,
                      load_checkpoint_file, mmengine_safe_globals,
                      require_local, resume_checkpoint, save_checkpoint_file)

__all__ = ['CheckpointMismatchError', 'load_weights', 'convert_official',
           'load_official', 'official_arch', 'official_to_mm_key',
           'UnsafeCheckpointError', 'is_complete', 'load_checkpoint_file',
           'mmengine_safe_globals', 'require_local', 'resume_checkpoint',
           'save_checkpoint_file', 'convert_v3', 'v3_arch']
