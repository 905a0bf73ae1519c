"""Strict loading of a checkpoint's weights into a model."""
from typing import Optional

import torch
import torch.nn as nn

from .safe_io import load_checkpoint_file


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not fit the model."""


def _listing(keys, n=5):
    keys = sorted(keys)
    more = f' and {len(keys) - n} more' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def load_weights(model: nn.Module, filename: str, strict: bool = True,
                 map_location: str = 'cpu',
                 checkpoint: Optional[dict] = None) -> dict:
    """Load the ``state_dict`` of a local checkpoint file into ``model``
    (safely, see :func:`~.safe_io.load_checkpoint_file`; or of
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
    from ..models.strict_loading import fits_loaded_shape
    own = model.state_dict()
    bad_shape = [f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)} in the '
                 f'model' for k, v in sd.items()
                 if k in own and not fits_loaded_shape(v, own[k])]
    if bad_shape:
        raise CheckpointMismatchError(
            f'{filename} does not fit the model: {len(bad_shape)} tensors '
            f'have other shapes ({"; ".join(bad_shape[:3])}): is it a '
            f'checkpoint of another arch or config?')
    from ..models.strict_loading import lenient_loading
    # the modules' own checks are this function's below (strict) or off
    with lenient_loading():
        result = model.load_state_dict(sd, strict=False)
    missing, unexpected = result.missing_keys, result.unexpected_keys
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f'{len(missing)} of the model\'s tensors are not in '
                         f'it ({_listing(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} of its tensors are not in the '
                         f'model ({_listing(unexpected)})')
        raise CheckpointMismatchError(
            f'{filename} does not fit the model: {"; ".join(parts)}. A '
            f'checkpoint of another task, arch or deploy form? (--non-strict '
            f'loads it anyway)')
    meta = ck.get('meta') if isinstance(ck, dict) else None
    return meta if isinstance(meta, dict) else {}


