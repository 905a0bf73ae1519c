"""Verified, resumable, atomic checkpoint downloads.

A download goes to ``<cache>/<file>.part`` (resumed with an HTTP Range
request after an interruption), is checked against its sha256 (the full
digest from the zoo's metafile, or the 8 hex digits that OpenMMLab file
names carry: ``name_YYYYMMDD-<hex8>.pth``), is opened with
``weights_only=True`` (a file that needs arbitrary code to unpickle is
refused), and only then renamed into the cache. A failed or tampered
transfer never leaves a file that looks valid; a file already in the cache
is re-checked and served without the network.
"""
import os
import os.path as osp
import re
import time
import urllib.error
import urllib.request
from typing import Optional

from ..fileio import sha256_file

# torch.hub's rule: the first '-<hex>.' in a file name is its hash prefix.
HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')
MIRROR_ENV = 'SPIKEFORMER_ZOO_MIRROR'


class DownloadError(RuntimeError):
    """A download that failed for a reason the user can act on."""


def cache_dir():
    """``$TORCH_HOME/hub/checkpoints`` (torch.hub's cache)."""
    import torch
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def hash_prefix(filename):
    m = HASH_REGEX.search(osp.basename(filename))
    return m.group(1) if m and len(m.group(1)) >= 8 else None


def apply_mirror(url):
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
    from ..checkpoint import UnsafeCheckpointError, load_checkpoint_file
    try:
        load_checkpoint_file(path)
    except UnsafeCheckpointError as e:
        raise DownloadError(f'{name}: refused: {e}') from None
    except ValueError as e:
        raise DownloadError(f'{name}: not a checkpoint: {e}') from None


def _fetch(url, part, progress, timeout):
    """One attempt: append to ``part`` from where it stops (HTTP Range)."""
    have = osp.getsize(part) if osp.exists(part) else 0
    req = urllib.request.Request(url, headers={'User-Agent': 'spikeformer_mm'})
    if have:
        req.add_header('Range', f'bytes={have}-')
    with urllib.request.urlopen(req, timeout=timeout) as r:
        if have and r.status != 206:  # server ignored the range: restart
            have = 0
        total = r.headers.get('Content-Length')
        total = int(total) + have if total is not None else None
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, initial=have, unit='B', unit_scale=True,
                       desc=osp.basename(part)[:-5], leave=False)
        with open(part, 'ab' if have else 'wb') as f:
            while True:
                chunk = r.read(1 << 16)
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


def download(url: str, dest_dir: Optional[str] = None,
             filename: Optional[str] = None, sha256: Optional[str] = None,
             retries: int = 3, progress: bool = True,
             timeout: float = 60) -> str:
    """Download ``url`` into ``dest_dir`` (default: the torch hub cache),
    verified; return the local path. Offline, a verified cached copy is
    returned without touching the network."""
    url = apply_mirror(url)
    filename = filename or url.rsplit('/', 1)[-1].split('?')[0]
    if not filename.endswith('.pth') or '/' in filename:
        raise DownloadError(f'not a checkpoint file name: {filename!r}')
    dest_dir = dest_dir or cache_dir()
    os.makedirs(dest_dir, exist_ok=True)
    path = osp.join(dest_dir, filename)
    if osp.isfile(path):
        try:
            _check_hash(path, sha256, filename)
            return path
        except DownloadError:
            os.remove(path)  # a bad copy in the cache: fetch it again
    part = path + '.part'
    last = None
    for attempt in range(retries):
        try:
            _fetch(url, part, progress, timeout)
            last = None
            break
        except urllib.error.HTTPError as e:
            if e.code == 416:  # our .part is complete or stale: start over
                os.remove(part)
                last = e
                continue
            if 400 <= e.code < 500:
                _discard(part)
                raise DownloadError(f'{url}: HTTP {e.code} {e.reason}') \
                    from None
            last = DownloadError(f'{url}: HTTP {e.code} {e.reason}')
        except (urllib.error.URLError, OSError, DownloadError) as e:
            last = e
        time.sleep(min(2 ** attempt * 0.5, 5))
    if last is not None:
        raise DownloadError(f'{url}: download failed after {retries} '
                            f'attempts ({last}); the partial file is kept '
                            f'at {part} and the next call resumes it') \
            from None
    try:
        _check_hash(part, sha256, filename)
        _check_loadable(part, filename)
    except DownloadError:
        _discard(part)
        raise
    os.replace(part, path)
    return path


def _discard(path):
    if osp.exists(path):
        os.remove(path)
