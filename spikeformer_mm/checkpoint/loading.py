"""Strict loading of a checkpoint's weights into a model."""
from typing import Optional

import torch
import torch.nn as nn

from .files import load_checkpoint_file


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not fit the model."""


def load_weights(model: nn.Module, filename: str, strict: bool = True,
                 map_location: str = 'cpu',
                 checkpoint: Optional[dict] = None) -> dict:
    """Load the ``state_dict`` of a local checkpoint file into ``model``
    (safely, see :func:`~.files.load_checkpoint_file`; or of
    ``checkpoint``, that file already loaded); returns the checkpoint's
    ``meta``.

    With ``strict`` (the default of every tool that evaluates or analyses a
    model) a checkpoint with missing or unexpected keys is refused, the keys
    named; shapes that differ are refused always. Evaluating random weights
    because a file belongs to another architecture or task would print
    plausible-looking metrics.
    """
    ck = checkpoint if checkpoint is not None else \
        load_checkpoint_file(filename, map_location=map_location)
    sd = ck.get('state_dict', ck) if isinstance(ck, dict) else None
    if not isinstance(sd, dict) or not all(torch.is_tensor(v)
                                           for v in sd.values()):
        raise CheckpointMismatchError(f'{filename} holds no state_dict of '
                                      f'tensors')
    if hasattr(model, 'module'):  # (Distributed)DataParallel
        model = model.module
    if all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    from ..models.strict_loading import describe, lenient_loading, mismatch
    own = model.state_dict()
    found = mismatch(own, sd)
    if found['shapes']:  # refused always, as torch does
        raise CheckpointMismatchError(
            f'{filename} does not fit the model: '
            f'{describe(dict(shapes=found["shapes"]), len(own))}: is it a '
            f'checkpoint of another arch or config?')
    # the modules' own checks are this function's (strict) or off
    with lenient_loading():
        model.load_state_dict(sd, strict=False)
    if strict and (found['missing'] or found['unexpected']):
        raise CheckpointMismatchError(
            f'{filename} does not fit the model: {describe(found, len(own))}'
            f'. A checkpoint of another task, arch or deploy form? '
            f'(--non-strict loads it anyway)')
    meta = ck.get('meta') if isinstance(ck, dict) else None
    return meta if isinstance(meta, dict) else {}


