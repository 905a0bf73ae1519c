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
def atomic_path(path: str, suffix: str = '',
                replace: bool = True) -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block succeeds it
    is synced and renamed to ``path``; when it fails it is removed.

    ``suffix`` keeps the extension for writers that look at it (``.png``).
    Files keep the usual permissions (umask), not ``mkstemp``'s 0600.
    ``replace=False``: a file that is at ``path`` by then is kept and
    ``FileExistsError`` raised (the temporary removed): the new file is
    linked into place, which no other writer can race.
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
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # FileExistsError if path exists
            os.remove(tmp)
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


def write_json(path: str, obj: Any, replace: bool = True) -> None:
    """Write ``obj`` as indented JSON, atomically; ``replace=False`` keeps
    a file already at ``path`` (``FileExistsError``)."""
    with atomic_path(path, suffix='.json', replace=replace) as tmp:
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=float)



class LockedError(OSError):
    """A lock file held by another live process (``file_lock`` without
    waiting); the message names the holder."""

    def __str__(self):
        return str(self.args[0]) if self.args else 'locked'


def acquire_lock(path: str, wait: bool = True, what: str = 'this'):
    """Take the lock file ``path`` exclusively and return it open: the lock
    is held until the file is closed or the process ends. The one lock of
    the toolbox (downloads, dataset folders, work dirs). ``fcntl.flock``
    is released by the kernel when the process ends, ``kill -9`` included,
    so a lock is never stale; the file stays (removing one that another
    process waits on would let a third take a fresh lock) and holds the pid
    of its last holder. ``wait=False``: instead of waiting, raise
    :class:`LockedError` naming the holder's pid and ``what`` it guards."""
    import fcntl
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    f = open(path, 'a+')
    try:
        fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or 'unknown'
        f.close()
        raise LockedError(f'{what} is in use by another live process '
                          f'(pid {holder}; lock file {path})') from None
    f.seek(0)
    f.truncate()
    f.write(f'{os.getpid()}\n')
    f.flush()
    return f


@contextlib.contextmanager
def file_lock(path: str, wait: bool = True,
              what: str = 'this') -> Iterator[None]:
    """:func:`acquire_lock` for the block."""
    with acquire_lock(path, wait, what):
        yield
