"""Reading and writing checkpoint files safely.

A checkpoint of spikeformer_mm is what mmengine saves (``state_dict``,
``meta``, and while training ``optimizer``, ``message_hub``,
``param_schedulers``) or, for a published model, only ``state_dict`` and a
plain ``meta`` dict. Every file loads with ``torch.load(weights_only=True)``
given :func:`mmengine_safe_globals`: nothing in it needs code to unpickle.
Writes are atomic (:func:`save_checkpoint_file`).

This module reads local files only; ``zoo://`` names and URLs are resolved
to local files by :func:`spikeformer_mm.zoo.resolve_checkpoint`.
"""
import glob
import os
import os.path as osp
import pickle
import zipfile
from typing import Callable, Optional

import numpy as np
import torch

from ..fileio import atomic_path


def _numpy_globals():
    """The numpy types that arrays and scalars in mmengine's logs pickle to."""
    out = [np.ndarray, np.dtype]
    for modname in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            mod = __import__(modname, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        out += [mod._reconstruct, mod.scalar]
        break
    # dtype classes (numpy >= 1.25 pickles dtypes as numpy.dtypes.XDType)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        out += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')
                and isinstance(getattr(dtypes, n), type)]
    return out


# HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer, name).
_HISTORY_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name):
    """Stands in for ``builtins.getattr`` while unpickling: it resolves only
    ``HistoryBuffer.<min|max|current|mean>`` and refuses anything else (a
    general getattr would let a file reach module globals)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({getattr(obj, "__name__", type(obj).__name__)}, '
        f'{name!r}) in a checkpoint')


def mmengine_safe_globals() -> list:
    """Exactly what mmengine's own checkpoints hold beyond tensors: the
    message hub's ``HistoryBuffer`` (with its four statistics methods,
    reached through a restricted getattr) and numpy arrays, scalars and
    dtypes."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that would need arbitrary code to unpickle."""


def require_local(filename: str) -> str:
    """``filename`` (``~`` expanded) if it is a file, else
    ``FileNotFoundError('checkpoint not found: ...')``."""
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise MissingFileError(filename)
    return filename


class MissingFileError(FileNotFoundError):
    """``FileNotFoundError('<what> not found: <path>')`` that keeps the
    missing ``path`` (the tools add how to make the file, if they know:
    :func:`spikeformer_mm.cli.with_hint`)."""

    def __init__(self, path: str, what: str = 'checkpoint'):
        super().__init__(f'{what} not found: {path}')
        self.path = str(path)



def load_checkpoint_file(filename: str, map_location: str = 'cpu') -> dict:
    """Load a local checkpoint with ``weights_only=True`` and the mmengine
    allow-list; refuse, with a message naming the file and what it holds,
    anything that would need arbitrary unpickling."""
    filename = require_local(filename)
    from ..models.strict_loading import note_checkpoint_file
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            ck = torch.load(filename, map_location=map_location,
                            weights_only=True)
            note_checkpoint_file(filename, ck)  # a refusal names the file
            return ck
        except pickle.UnpicklingError as e:
            try:
                bad = torch.serialization.get_unsafe_globals_in_checkpoint(
                    filename)
            except Exception:  # not a zip checkpoint: torch says why below
                bad = []
            hint = ''
            if 'argparse.Namespace' in bad:
                hint = (' It looks like a checkpoint of the paper\'s official '
                        'code: convert it with python tools/model_converters/'
                        f'sdtv2_to_mm.py {filename} OUT.pth')
            raise UnsafeCheckpointError(
                f'refusing to load {filename}: it needs arbitrary code to '
                f'unpickle ({", ".join(bad) or e}).{hint}') from None
        except Exception as e:  # truncated, not a checkpoint, ...
            raise ValueError(f'{filename} is not a readable PyTorch '
                             f'checkpoint ({type(e).__name__}: {e})') from None


def is_complete(filename: str) -> bool:
    """True if ``filename`` is a whole checkpoint file: torch's zip format
    ends with a central directory, which a torn write (``kill -9``, full
    disk) lacks. Cheap: the tensors are not read."""
    try:
        with zipfile.ZipFile(filename) as z:
            return bool(z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def resume_checkpoint(work_dir: str, logger: Optional[Callable[[str], None]] = None
                      ) -> Optional[str]:
    """The checkpoint ``--resume`` (auto) should continue from: the one the
    ``last_checkpoint`` pointer of ``work_dir`` names if it is complete,
    else the newest complete ``*.pth`` there (with a warning naming the
    torn one); None when there is none."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
    if named and osp.isfile(named) and is_complete(named):
        return named
    found = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                   key=osp.getmtime, reverse=True)
    good = next((p for p in found if is_complete(p)), None)
    torn = [p for p in ([named] if named else []) + found
            if p and osp.isfile(p) and not is_complete(p)]
    if torn and logger is not None:
        logger(f'not resuming from {", ".join(sorted(set(torn)))}: '
               f'incomplete checkpoint (an interrupted save); '
               + (f'resuming from {good}' if good else 'starting afresh'))
    return good


def remove_stale_temporaries(work_dir: str, min_age_s: float = 60.0,
                             logger: Optional[Callable[[str], None]] = None
                             ) -> list:
    """Remove the temporary files an interrupted atomic save left in
    ``work_dir`` (``.tmp-<name>...``, see
    :func:`spikeformer_mm.fileio.atomic_path`), those not written to for
    ``min_age_s`` seconds (a save in progress keeps writing); returns
    their paths."""
    import time
    removed = []
    for p in glob.glob(osp.join(work_dir, '.tmp-*')):
        try:
            if osp.isfile(p) and time.time() - osp.getmtime(p) > min_age_s:
                os.remove(p)
                removed.append(p)
        except OSError:
            pass
    if removed and logger is not None:
        logger(f'removed {len(removed)} temporary file(s) of an interrupted '
               f'save: {", ".join(osp.basename(p) for p in removed)}')
    return removed


class CheckpointWriteError(OSError):
    """A checkpoint that could not be written (a full disk...)."""


def write_error(filename: str, error: Exception) -> CheckpointWriteError:
    """The error of a file that could not be written: it names the file,
    the space left there and the cause (a full disk's ``OSError`` names no
    file; torch's says ``enforce fail at inline_container.cc``)."""
    import shutil
    try:
        free = shutil.disk_usage(osp.dirname(osp.abspath(filename))).free
        left = f'{free / 2**20:.1f} MB free there'
    except OSError:
        left = 'free space unknown'
    msg = str(error).splitlines()[0] if str(error) else type(error).__name__
    return CheckpointWriteError(
        f'could not write {filename} ({left}; is the disk full?): {msg}')


def save_checkpoint_file(obj: dict, filename: str) -> str:
    """``torch.save`` to a temporary file beside ``filename``, then rename: a
    failure never leaves a half-written file under the final name, and is
    reported as a :class:`CheckpointWriteError` naming the file and the
    space left (torch says ``enforce fail at inline_container.cc``)."""
    filename = osp.abspath(osp.expanduser(str(filename)))
    try:
        with atomic_path(filename, suffix='.pth') as tmp:
            torch.save(obj, tmp)
    except (OSError, RuntimeError) as e:
        raise write_error(filename, e) from None
    return filename


