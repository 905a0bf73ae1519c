"""Getting a model's weights: download with a checked sha256, the papers'
own weights converted, and the ``zoo://``, ``hf://`` and verified
``http(s)://`` checkpoint loaders."""
import os
import os.path as osp
from typing import Optional

from ..checkpoint import load_checkpoint_file, require_local
from .download import (DownloadError, cache_dir, check_sha256, download,
                       hash_prefix)
from .sources import (GDRIVE_PREFIX, HF_PREFIX, download_gdrive, download_hf,
                      record_trust)
from .index import get_model_info, list_models


def _expected_sha256(model):
    meta = model.get('Metadata') or {}
    return model.get('SHA256') or meta.get('SHA256')


def download_model(name: str, dest_dir: Optional[str] = None,
                   index: Optional[str] = None, progress: bool = True,
                   lister=None, fetch_url=None) -> str:
    """Download (or find in the cache) the verified weights of ``name``.
    A model whose ``Converted From`` weights are a ``gdrive://`` file (the
    paper's) is downloaded, converted and checked against its config
    (:func:`fetch_and_convert`; ``lister`` / ``fetch_url`` as there)."""
    model = get_model_info(name, index)
    url = model.get('Weights')
    src = model.get('Converted From') or {}
    if not url and str(src.get('Weights', '')).startswith(GDRIVE_PREFIX):
        return fetch_and_convert(model, src['Weights'], dest_dir, lister,
                                 fetch_url)
    if not url:
        src = model.get('Converted From') or {}
        hint = ''
        if src.get('Command'):
            hint = (f' Get the original weights from {src.get("Weights")} '
                    f'and convert them: {src["Command"]}')
        elif model.get('Note'):
            hint = ' ' + model['Note']
        raise DownloadError(f'{name} has no downloadable weights.{hint}')
    sha = check_sha256(_expected_sha256(model), f'{name} (model index)')
    if url.startswith(HF_PREFIX):
        if sha is None:
            raise DownloadError(f'{name}: its index gives no SHA256: '
                                f'refusing an unverifiable download')
        return download_hf(url, sha)
    if sha is None and hash_prefix(url) is None:
        raise DownloadError(f'{name}: its index gives no SHA256 and its file '
                            f'name carries no hash: refusing an unverifiable '
                            f'download')
    return download(url, dest_dir=dest_dir, sha256=sha, progress=progress)


def resolve_checkpoint(filename: str) -> str:
    """A local file for ``filename``: ``zoo://NAME`` and http(s) URLs are
    downloaded, verified, to the cache; a local path must exist."""
    filename = str(filename)
    if filename.startswith('zoo://'):
        return download_model(filename[len('zoo://'):])
    if filename.startswith(HF_PREFIX):
        # the zoo index's sha256 where an index lists this file, else the
        # hash in its name; else, as a plain URL without one, what
        # huggingface_hub's revalidation gives (docs/zoo.md)
        sha = next((_expected_sha256(m) for m in list_models().values()
                    if m.get('Weights') == filename), None)
        return download_hf(filename, check_sha256(sha, filename),
                           prefix=hash_prefix(filename))
    if filename.startswith(GDRIVE_PREFIX):
        raise ValueError(f'{filename}: a Drive file is in the paper\'s '
                         f'format; load it by its zoo name (zoo://NAME), '
                         f'which converts it')
    if filename.startswith(('http://', 'https://')):
        return download(filename)
    return require_local(filename)


# the papers' converters, by the ``Converted From: Converter`` of an entry
# (``sdtv2``, the default; ``sdtv3``: E-SpikeFormer's, whose D is the
# entry's ``Metadata: Max Spike Count``)
PAPER_CONVERTERS = ('sdtv2', 'sdtv3')


def convert_paper_weights(model: dict, checkpoint: dict, source: str) -> dict:
    """``checkpoint`` (a paper's file) converted by the converter its zoo
    entry ``model`` names."""
    from ..checkpoint import convert_official, convert_v3
    name = (model.get('Converted From') or {}).get('Converter', 'sdtv2')
    if name not in PAPER_CONVERTERS:
        raise ValueError(f'{model.name}: unknown Converter {name!r}; one of '
                         f'{PAPER_CONVERTERS}')
    if name == 'sdtv3':
        D = (model.get('Metadata') or {}).get('Max Spike Count', 4)
        return convert_v3(checkpoint, int(D), source=source)
    return convert_official(checkpoint, source=source)


def fetch_and_convert(model: dict, source: str,
                      dest_dir: Optional[str] = None, lister=None,
                      fetch_url=None) -> str:
    """The paper's weights of zoo entry ``model`` from the Drive file
    ``source`` (trust on first use: :func:`.sources.download_gdrive`),
    converted with the project's converter and checked against the entry's
    config (every key, every shape, strict loading); stored as
    ``<cache>/<Name>.pth``. A converted file already there is checked and
    served without the network."""
    from ..checkpoint import load_weights, save_checkpoint_file
    from ..checkpoint.official import load_official
    name = model.name
    dest_dir = dest_dir or cache_dir()
    out = osp.join(dest_dir, f'{name}.pth')
    config = model.config
    if not config or not osp.isfile(config):
        raise DownloadError(f'{name}: its config {config} is not there: the '
                            f'converted weights cannot be checked')

    def check(path):
        # the classifier of the config's backbone and head: the student of
        # a distillation config (the teacher's weights are not the paper's)
        from mmengine.config import Config
        from mmengine.registry import MODELS, init_default_scope
        cfg = Config.fromfile(config)
        init_default_scope('mmpretrain')
        m = MODELS.build(dict(type='ImageClassifier',
                              backbone=cfg.model.backbone,
                              neck=cfg.model.get('neck'),
                              head=cfg.model.head))
        load_weights(m, path, strict=True)  # every key, every shape

    if osp.isfile(out):
        check(out)
        return out
    original = osp.join(dest_dir, 'gdrive', osp.basename(source))
    if not osp.isfile(original):
        kw = {k: v for k, v in (('lister', lister), ('fetch_url', fetch_url))
              if v is not None}
        try:
            download_gdrive(source, original, **kw)
        except DownloadError as e:
            cmd = (model.get('Converted From') or {}).get('Command')
            raise DownloadError(
                f'{e}. Or download {osp.basename(source)} by hand and '
                f'convert it: {cmd}' if cmd else str(e)) from e
    else:  # a kept original is checked against its recorded sha256 too
        from .sources import _trusted
        from ..fileio import sha256_file
        if _trusted().get(source) not in (None, sha256_file(original)):
            raise DownloadError(f'{original}: sha256 differs from the one '
                                f'recorded at its first download; delete '
                                f'it to download again')
    converted = convert_paper_weights(model, load_official(original), source)
    save_checkpoint_file(converted, out)
    try:
        check(out)
    except Exception:
        os.remove(out)  # never leave weights that do not fit the config
        raise
    record_trust(source, original)
    print(f'{name}: converted {osp.basename(source)} -> {out}, checked '
          f'against {osp.relpath(config)}')
    return out


def load_from_zoo(filename: str, map_location=None) -> dict:
    """mmengine CheckpointLoader scheme ``zoo://NAME``."""
    name = filename[len('zoo://'):]
    return load_checkpoint_file(download_model(name, progress=False),
                                map_location=map_location or 'cpu')


def load_from_hf(filename: str, map_location=None) -> dict:
    """mmengine CheckpointLoader scheme ``hf://OWNER/REPO/FILE``
    (:func:`resolve_checkpoint`: the index's sha256 checked)."""
    return load_checkpoint_file(resolve_checkpoint(filename),
                                map_location=map_location or 'cpu')


def load_from_http_verified(filename: str, map_location=None) -> dict:
    """mmengine CheckpointLoader scheme for http(s) URLs: downloaded through
    :func:`download` (hash in the name checked when present) and opened with
    ``weights_only=True``. mmengine's own http loader unpickles anything."""
    return load_checkpoint_file(download(filename, progress=False),
                                map_location=map_location or 'cpu')
