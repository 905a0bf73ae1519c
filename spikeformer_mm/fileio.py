"""Writing files so that nobody ever reads half of one: the one home of
the atomic write, sha256 and JSON output used by every part of the toolbox
(checkpoints, datasets, reports, downloads, published models).

An atomic write goes to a temporary file in the destination's directory
(same file system), is flushed to disk (``fsync``), then renamed over the
destination: a reader sees the old file or the new one, never a torn one,
even after ``kill -9`` or a full disk; on failure the temporary file is
removed.
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator


# The process's umask, read once at import (reading it means setting it,
# which must not happen while other threads create files).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def fsync_path(path: str) -> None:
    """Flush a file (or a directory entry) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = '') -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block succeeds it
    is synced and renamed to ``path``; when it fails it is removed.

    ``suffix`` keeps the extension for writers that look at it (``.png``).
    Files keep the usual permissions (umask), not ``mkstemp``'s 0600.
    """
    path = osp.abspath(osp.expanduser(str(path)))
    d = osp.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix='.tmp-' + osp.basename(path),
                               suffix=suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(d)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def read_json(path: str, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when there is no such file."""
    if not osp.isfile(path):
        return default
    with open(path) as f:
        return json.load(f)


def write_json(path: str, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path, suffix='.json') as tmp:
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=float)

