"""What the command-line tools do, as functions: read and configure a
config (:mod:`.config`), build its model with weights (:mod:`.inference`),
its images (:mod:`.data`), and the analyses over them (:mod:`.energy`,
:mod:`.export`, :mod:`.precision`).

Library functions raise exceptions (``FileNotFoundError`` for a missing
file, ``ValueError`` and its subclasses for bad input); the tools turn them
into one-line ``error: ...`` messages (:mod:`spikeformer_mm.cli`).
"""
from .config import (build_runner, check_annotation_files, close_distributed,
                     config_path, configure, get_config, innermost_dataset,
                     load_config)
from .inference import init_model, load_model_weights, use_safe_loaders

__all__ = ['build_runner', 'check_annotation_files', 'close_distributed',
           'configure', 'innermost_dataset', 'load_config', 'init_model',
           'get_config', 'config_path', 'load_model_weights',
           'use_safe_loaders']
