"""Checkpoint sources beyond plain HTTP(S).

* ``hf://OWNER/REPO/PATH[@REVISION]``: a file of a Hugging Face Hub
  repository, through ``huggingface_hub`` (its cache, locks and resumed
  downloads; ``HF_ENDPOINT`` selects the server), then checked against the
  zoo's sha256 and opened with ``weights_only=True``.
* ``gdrive://FOLDER_ID/FILE``: a file of a public Google Drive folder (the
  paper's own weights live in one), through ``gdown`` (a maintained Drive
  client). The publisher gives no hash, so the first download's sha256 is
  recorded (trust on first use, ``<cache>/trusted_sha256.json``) and said
  to be unverified by the publisher; a later download whose sha256 differs
  is refused.
"""
import json
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Tuple

from ..fileio import atomic_path, sha256_file, write_json
from .download import DownloadError, cache_dir

HF_PREFIX = 'hf://'
OFFLINE_ENV = 'SPIKEFORMER_OFFLINE'  # no Drive access (tests, air-gapped)
GDRIVE_PREFIX = 'gdrive://'
_HF_RE = re.compile(r'^hf://([^/@]+/[^/@]+)/([^@]+?)(?:@([^/@]+))?$')
_GDRIVE_RE = re.compile(r'^gdrive://([A-Za-z0-9_-]+)/([^/]+)$')
# a file shared by its own id (E-SpikeFormer's weights), no folder to list
_GDRIVE_FILE_RE = re.compile(r'^gdrive://file/([A-Za-z0-9_-]+)/([^/]+)$')


def parse_hf(url: str) -> Tuple[str, str, Optional[str]]:
    """``(repo_id, path in the repo, revision or None)``."""
    m = _HF_RE.match(url)
    if not m:
        raise ValueError(f'{url!r}: expected hf://OWNER/REPO/PATH[@REVISION]')
    return m.group(1), m.group(2), m.group(3)


def download_hf(url: str, sha256: Optional[str] = None,
                prefix: Optional[str] = None) -> str:
    """The local file of ``hf://...`` (Hugging Face's cache), checked
    against ``sha256`` (a zoo index's) or the hash ``prefix`` its file name
    carries, when given. A copy that fails the check (a corrupted
    transfer kept in the cache) is fetched again once before the download
    is refused. ``$SPIKEFORMER_OFFLINE``: the cache only, no request."""
    repo, path, revision = parse_hf(url)
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError as e:
        raise DownloadError(f'{url}: huggingface_hub is not installed '
                            f'(pip install -r requirements/runtime.txt)') from e
    offline = bool(os.environ.get(OFFLINE_ENV))

    def fetch(force):
        try:
            return hf_hub_download(repo_id=repo, filename=path,
                                   revision=revision, force_download=force,
                                   local_files_only=offline)
        except (HfHubHTTPError, OSError, ValueError) as e:
            where = (f' (${OFFLINE_ENV} is set: the local cache only, and '
                     f'it has no copy)' if offline else '')
            raise DownloadError(f'{url}: {e}{where}') from e

    def verified(local):
        digest = sha256_file(local) if sha256 or prefix else None
        return digest is None or (digest == sha256.lower() if sha256 else
                                  digest.startswith(prefix.lower()))

    local = fetch(False)
    if not verified(local) and not offline:
        # a corrupt copy in huggingface_hub's cache (which serves a file
        # it holds for the commit without looking at it again): drop the
        # file and its snapshot link, then fetch it again, once
        for p in {osp.realpath(local), local}:
            if osp.lexists(p):
                os.remove(p)
        local = fetch(True)
    if not verified(local):
        raise DownloadError(
            f'{url}: sha256 mismatch with '
            + (f'the zoo index (expected {sha256})' if sha256 else
               f'the hash in its name ({prefix})')
            + '; the file is corrupt or was replaced')
    return local


def parse_gdrive(url: str) -> Tuple[Optional[str], str, Optional[str]]:
    """``(folder id, file name, None)`` of ``gdrive://FOLDER/FILE``, or
    ``(None, file name, file id)`` of ``gdrive://file/ID/FILE`` (a file
    shared by its own id)."""
    m = _GDRIVE_FILE_RE.match(url)
    if m:
        return None, m.group(2), m.group(1)
    m = _GDRIVE_RE.match(url)
    if not m:
        raise ValueError(f'{url!r}: expected gdrive://FOLDER_ID/FILE or '
                         f'gdrive://file/FILE_ID/FILE')
    return m.group(1), m.group(2), None


def list_drive_folder(folder: str) -> List[Tuple[str, str]]:
    """``[(file id, name), ...]`` of a public Drive folder (gdown reads the
    folder's page; nothing is downloaded)."""
    import gdown
    files = gdown.download_folder(id=folder, skip_download=True,
                                  quiet=True)
    return [(f.id, osp.basename(f.path)) for f in files or []]


def _trust_file():
    return osp.join(cache_dir(), 'trusted_sha256.json')


def _trusted():
    path = _trust_file()
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def download_gdrive(url: str, dest: str,
                    lister: Callable = list_drive_folder,
                    fetch_url: Optional[Callable[[str], str]] = None,
                    log: Callable = print) -> str:
    """Download the file of ``gdrive://FOLDER/FILE`` (or
    ``gdrive://file/ID/FILE``) to ``dest``, checked against the sha256
    recorded at its first download (a first download is recorded by the
    caller once it checked the file: :func:`record_trust`). ``lister``
    lists the folder; ``fetch_url(file id)`` gives the URL gdown fetches
    (default: Drive's, by id)."""
    folder, name, file_id = parse_gdrive(url)
    real_drive = fetch_url is None and (file_id is not None or
                                        lister is list_drive_folder)
    if os.environ.get(OFFLINE_ENV) and real_drive:
        raise DownloadError(f'{url}: ${OFFLINE_ENV} is set: no Drive '
                            f'access')
    import gdown
    if file_id is None:
        try:
            files = dict((n, i) for i, n in lister(folder))
        except Exception as e:  # gdown raises requests' and its own errors
            raise DownloadError(f'{url}: cannot list the Drive folder '
                                f'({type(e).__name__}: {e})') from e
        if name not in files:
            raise DownloadError(f'{url}: the Drive folder has no {name!r} '
                                f'(it has {sorted(files)[:10]})')
        file_id = files[name]
    with atomic_path(dest, suffix='.pth') as tmp:
        kw = dict(url=fetch_url(file_id)) if fetch_url else dict(id=file_id)
        try:
            got = gdown.download(output=tmp, quiet=False, **kw)
        except Exception as e:
            raise DownloadError(f'{url}: gdown failed ({type(e).__name__}: '
                                f'{e})') from e
        if not got or not osp.isfile(tmp) or not osp.getsize(tmp):
            raise DownloadError(f'{url}: gdown fetched nothing (the Drive '
                                f'quota, or the folder is not public)')
        digest = sha256_file(tmp)
        known = _trusted().get(url)
        if known is not None and known != digest:
            raise DownloadError(
                f'{url}: sha256 {digest} differs from the one recorded at '
                f'its first download ({known}); the publisher\'s file '
                f'changed or this copy is corrupt: refused (delete '
                f'{_trust_file()} to trust a new file)')
    return dest


def record_trust(url: str, path: str, log: Callable = print) -> None:
    """Record the sha256 of ``path``, the first download of ``url``, as
    the one later downloads must match (trust on first use). Called only
    once the file converted and checked: a corrupt first download is never
    trusted."""
    trusted = _trusted()
    if url in trusted:
        return
    digest = sha256_file(path)
    trusted[url] = digest
    write_json(_trust_file(), trusted)
    log(f'{osp.basename(path)}: sha256 {digest} recorded at this first '
        f'download, after it converted and loaded into its config; the '
        f'publisher gives no hash, so it is unverified by the publisher '
        f'(later downloads must match it)')


def clear_trust(url: str) -> None:
    """Forget the recorded sha256 of ``url``."""
    trusted = _trusted()
    if trusted.pop(url, None) is not None:
        write_json(_trust_file(), trusted)


__all__ = ['HF_PREFIX', 'GDRIVE_PREFIX', 'parse_hf', 'download_hf',
           'parse_gdrive', 'list_drive_folder', 'download_gdrive',
           'record_trust', 'clear_trust']
