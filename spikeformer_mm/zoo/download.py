"""Verified, resumable, atomic checkpoint downloads.

A download goes to ``<cache>/<file>.part`` (resumed with an HTTP Range
request after an interruption), is checked against its sha256 (the full
digest from the zoo's metafile, or the 8 hex digits that OpenMMLab file
names carry: ``name_YYYYMMDD-<hex8>.pth``), is opened with
``weights_only=True`` (a file that needs arbitrary code to unpickle is
refused), and only then renamed into the cache. A failed or tampered
transfer never leaves a file that looks valid; a file already in the cache
is re-checked and served without the network.

The cache is keyed by what identifies the content: a file with a hash (the
metafile's sha256 or the one in its name) is cached under its name and
verified on every use; a URL without any hash is cached under a folder
named after the URL and revalidated against the server (ETag,
Last-Modified, size) when it can be reached. One process downloads a given
file at a time (a lock beside it; the others wait, then find it verified),
and every download has an overall deadline besides the per-read timeout.
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import re
import time
import urllib.error
import urllib.request
from typing import Optional

from ..checkpoint import UnsafeCheckpointError, load_checkpoint_file
from ..fileio import file_lock, sha256_file, write_json

# torch.hub's rule: the first '-<hex>.' in a file name is its hash prefix.
HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')
MIRROR_ENV = 'SPIKEFORMER_ZOO_MIRROR'
DEADLINE_ENV = 'SPIKEFORMER_DOWNLOAD_DEADLINE'
DEFAULT_DEADLINE = 3600.  # seconds for a whole download, all attempts
SHA256_RE = re.compile(r'^[0-9a-f]{64}$')


class DownloadError(RuntimeError):
    """A download that failed for a reason the user can act on."""


class DeadlineError(DownloadError):
    """A download that did not finish within its overall deadline."""


def cache_dir() -> str:
    """``$TORCH_HOME/hub/checkpoints`` (torch.hub's cache)."""
    import torch
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def hash_prefix(filename: str) -> Optional[str]:
    m = HASH_REGEX.search(osp.basename(filename))
    return m.group(1) if m and len(m.group(1)) >= 8 else None


def apply_mirror(url: str) -> str:
    """Replace the base of ``url`` by ``$SPIKEFORMER_ZOO_MIRROR`` if set."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return url
    return mirror.rstrip('/') + '/' + url.rsplit('/', 1)[-1]


def _check_hash(path, sha256, name):
    digest = sha256_file(path)
    want = sha256 or hash_prefix(name)
    if want is None:
        return digest
    if not digest.startswith(want.lower()):
        raise DownloadError(
            f'{name}: sha256 mismatch (expected {want}, got {digest[:len(want)]}'
            f'...); the file is corrupt or was tampered with, nothing was '
            f'kept')
    return digest


def _check_loadable(path, name):
    try:
        load_checkpoint_file(path)
    except UnsafeCheckpointError as e:
        raise DownloadError(f'{name}: refused: {e}') from None
    except ValueError as e:
        raise DownloadError(f'{name}: not a checkpoint: {e}') from None


def check_sha256(value: Optional[str], where: str) -> Optional[str]:
    """A full sha256 (64 hex digits) or a ValueError naming ``where``."""
    if value is None:
        return None
    v = str(value).strip().lower()
    if not SHA256_RE.match(v):
        raise ValueError(f'{where}: SHA256 must be 64 hex digits, got '
                         f'{value!r}')
    return v


@contextlib.contextmanager
def _file_lock(path):
    """One downloader of ``path`` at a time, across processes (lock files
    in a hidden folder beside it, out of the way)."""
    with file_lock(osp.join(osp.dirname(path), '.locks',
                            osp.basename(path) + '.lock')):
        yield


VALIDATORS = ('ETag', 'Last-Modified')


def _fetch(url, part, progress, timeout, deadline=None):
    """One attempt: append to ``part`` from where it stops (HTTP Range).
    Returns the response's validators (``ETag``, ``Last-Modified``)."""
    have = osp.getsize(part) if osp.exists(part) else 0
    req = urllib.request.Request(url, headers={'User-Agent': 'spikeformer_mm'})
    if have:
        req.add_header('Range', f'bytes={have}-')
    with urllib.request.urlopen(req, timeout=timeout) as r:
        if have and r.status != 206:  # server ignored the range: restart
            have = 0
        validators = {k: r.headers.get(k) for k in VALIDATORS
                      if r.headers.get(k)}
        total = r.headers.get('Content-Length')
        total = int(total) + have if total is not None else None
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, initial=have, unit='B', unit_scale=True,
                       desc=osp.basename(part)[:-5], leave=False)
        with open(part, 'ab' if have else 'wb') as f:
            while True:
                if deadline is not None and time.monotonic() > deadline:
                    raise DeadlineError(
                        f'no complete transfer before the deadline '
                        f'({osp.getsize(part)} bytes received; '
                        f'${DEADLINE_ENV} sets it, in seconds)')
                # read1: whatever has arrived, so that a server trickling
                # bytes cannot hold a read (and the deadline) off
                chunk = r.read1(1 << 16)
                if not chunk:
                    break
                f.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        if bar is not None:
            bar.close()
    if total is not None and osp.getsize(part) != total:
        raise DownloadError(f'transfer ended early ({osp.getsize(part)} of '
                            f'{total} bytes)')
    return validators


def download(url: str, dest_dir: Optional[str] = None,
             filename: Optional[str] = None, sha256: Optional[str] = None,
             retries: int = 3, progress: bool = True,
             timeout: float = 60,
             deadline: Optional[float] = None) -> str:
    """Download ``url`` into ``dest_dir`` (default: the torch hub cache),
    verified; return the local path. Offline, a verified cached copy is
    returned without touching the network.

    Args:
        sha256 (str, optional): the full digest (64 hex digits).
        timeout (float): seconds a single read may wait.
        deadline (float, optional): seconds for the whole download, all
            attempts; default ``$SPIKEFORMER_DOWNLOAD_DEADLINE`` or 3600.
    """
    url = apply_mirror(url)
    sha256 = check_sha256(sha256, url)
    filename = filename or url.rsplit('/', 1)[-1].split('?')[0]
    if not filename.endswith('.pth') or '/' in filename:
        raise DownloadError(f'not a checkpoint file name: {filename!r}')
    dest_dir = dest_dir or cache_dir()
    verifiable = sha256 is not None or hash_prefix(filename) is not None
    if not verifiable:
        # nothing but the URL identifies the content: one folder per URL
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        dest_dir = osp.join(dest_dir, f'url-{key}')
    os.makedirs(dest_dir, exist_ok=True)
    path = osp.join(dest_dir, filename)
    if deadline is None:
        deadline = float(os.environ.get(DEADLINE_ENV, DEFAULT_DEADLINE))
    with _file_lock(path):
        if osp.isfile(path):
            try:
                _check_hash(path, sha256, filename)
                if verifiable or _unchanged(url, path, timeout):
                    return path
            except DownloadError:
                pass  # corrupt or tampered: fetched again below
            os.remove(path)  # a bad or outdated copy: fetch it again
        validators = _download_to(url, path, filename, sha256, retries,
                                  progress, timeout,
                                  time.monotonic() + deadline)
        if not verifiable:
            write_json(path + '.source.json',
                       dict(url=url, sha256=sha256_file(path), **validators))
    return path


def _unchanged(url, path, timeout, deadline=60.0):
    """For a file without a hash: is the server's file still the cached
    one? A conditional GET (``If-None-Match`` / ``If-Modified-Since`` with
    the validators of the download): 304 says so; a body (the server sent
    the file: no validators, or it changed, or it ignores them) is hashed
    and compared with the cached copy's sha256. A HEAD is not asked: some
    servers refuse it (presigned links answer 403/501) and its
    Content-Length cannot tell two files of one size apart. Only a server
    that cannot be reached at all lets the cached copy stand (offline)."""
    try:
        with open(path + '.source.json') as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return False
    if not saved.get('sha256'):
        return False  # written by an older release: fetch it again
    headers = {'User-Agent': 'spikeformer_mm'}
    if saved.get('ETag'):
        headers['If-None-Match'] = saved['ETag']
    if saved.get('Last-Modified'):
        headers['If-Modified-Since'] = saved['Last-Modified']
    req = urllib.request.Request(url, headers=headers)
    end = time.monotonic() + deadline
    try:
        with urllib.request.urlopen(req, timeout=min(timeout, 10)) as r:
            h = hashlib.sha256()
            while True:
                if time.monotonic() > end:
                    return False  # could not compare in time: refetch
                chunk = r.read1(1 << 16)
                if not chunk:
                    break
                h.update(chunk)
            return h.hexdigest() == saved['sha256']
    except urllib.error.HTTPError as e:
        return e.code == 304
    except (urllib.error.URLError, OSError, ValueError):
        return True


def _download_to(url, path, filename, sha256, retries, progress, timeout,
                 deadline):
    part = path + '.part'
    last, validators = None, {}
    for attempt in range(retries):
        try:
            validators = _fetch(url, part, progress, timeout, deadline)
            last = None
            break
        except DeadlineError:
            _discard(part)
            raise
        except urllib.error.HTTPError as e:
            if e.code == 416:  # our .part is complete or stale: start over
                _discard(part)
                last = e
                continue
            if 400 <= e.code < 500:
                _discard(part)
                raise DownloadError(f'{url}: HTTP {e.code} {e.reason}') \
                    from None
            last = DownloadError(f'{url}: HTTP {e.code} {e.reason}')
        except (urllib.error.URLError, OSError, DownloadError) as e:
            last = e
        if time.monotonic() > deadline:
            break
        time.sleep(min(2 ** attempt * 0.5, 5))
    if last is not None:
        kept = (f'the partial file is kept at {part} and the next call '
                f'resumes it' if osp.exists(part) else 'nothing was kept')
        raise DownloadError(f'{url}: download failed after {retries} '
                            f'attempts ({last}); {kept}') from None
    try:
        _check_hash(part, sha256, filename)
        _check_loadable(part, filename)
    except DownloadError:
        _discard(part)
        raise
    os.replace(part, path)
    return validators


def _discard(path):
    if osp.exists(path):
        os.remove(path)
