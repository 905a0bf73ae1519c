"""The model zoo: OpenMMLab model-index metadata, verified downloads, and
loading by name (``zoo://NAME`` in any checkpoint field of a config).

    python -m spikeformer_mm.zoo list [--index FILE]
    python -m spikeformer_mm.zoo download NAME [--dest DIR] [--index FILE]

``--index`` (or ``$SPIKEFORMER_ZOO_INDEX``, ``:``-separated) adds your own
model-index.yml files (an organisation's private zoo); their ``Weights``
URLs are served through ``$SPIKEFORMER_ZOO_MIRROR`` when it is set.
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Union

from ..checkpoint import load_checkpoint_file, require_local
from .download import (DownloadError, cache_dir, check_sha256, download,
                       hash_prefix)

PACKAGE_INDEX = osp.join(osp.dirname(__file__), 'model-index.yml')
INDEX_ENV = 'SPIKEFORMER_ZOO_INDEX'
_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def config_root() -> str:
    """The folder that the metafiles' ``Config: configs/...`` paths are
    relative to: ``spikeformer_mm/.mim`` in a regular install (setup.py ships
    the configs there, as mmpretrain does), the checkout in an editable one."""
    mim = osp.join(_PACKAGE, '.mim')
    if osp.isdir(osp.join(mim, 'configs')):
        return mim
    return osp.dirname(_PACKAGE)


class ZooModel(dict):
    """One model of the zoo (the metafile's fields, plus ``index``)."""

    @property
    def name(self) -> str:
        return self['Name']

    @property
    def config(self):
        """Absolute path of the model's config, or None. The package's own
        metafiles are relative to :func:`config_root`; a user's index is
        relative to its own folder."""
        cfg = self.get('Config')
        if not cfg or osp.isabs(cfg):
            return cfg
        ours = osp.dirname(osp.abspath(PACKAGE_INDEX))
        base = (config_root() if osp.abspath(self['index']).startswith(ours)
                else osp.dirname(self['index']))
        return osp.join(base, cfg)


def _load_yaml(path):
    import yaml
    if not osp.isfile(path):
        raise FileNotFoundError(f'model index not found: {path}')
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f'{path}: not a model-index/metafile mapping')
    return data


def _models_of(path, seen=None):
    seen = set() if seen is None else seen
    path = osp.abspath(path)
    if path in seen:
        return []
    seen.add(path)
    data = _load_yaml(path)
    imports, entries = data.get('Import') or [], data.get('Models') or []
    if not (isinstance(imports, list) and
            all(isinstance(s, str) for s in imports)):
        raise ValueError(f'{path}: Import must be a list of metafile paths, '
                         f'got {imports!r}')
    if not isinstance(entries, list):
        raise ValueError(f'{path}: Models must be a list of models, got '
                         f'{entries!r}')
    models = []
    for sub in imports:
        models += _models_of(osp.join(osp.dirname(path), sub), seen)
    for i, m in enumerate(entries):
        if not isinstance(m, dict) or 'Name' not in m:
            raise ValueError(f'{path}: Models[{i}] is not a model with a '
                             f'Name ({m!r})')
        models.append(ZooModel(m, index=path))
    return models


def index_files(extra: Union[str, Sequence[str], None] = None) -> list:
    files = [PACKAGE_INDEX]
    env = os.environ.get(INDEX_ENV)
    if env:
        files += [p for p in env.split(os.pathsep) if p]
    if extra:
        files += list(extra) if isinstance(extra, (list, tuple)) else [extra]
    return files


def list_models(index: Optional[str] = None) -> Dict[str, dict]:
    """All models of the package's zoo and of the extra indexes; a later
    index overrides an earlier one's model of the same name."""
    out = {}
    for f in index_files(index):
        for m in _models_of(f):
            out[m.name] = m
    return out


def get_model_info(name: str, index: Optional[str] = None) -> dict:
    models = list_models(index)
    if name not in models:
        close = [n for n in models if name.lower() in n.lower()]
        raise KeyError(f'no model {name!r} in the zoo'
                       + (f'; did you mean {close[:5]}?' if close else
                          '; see `python -m spikeformer_mm.zoo list`'))
    return models[name]


def _expected_sha256(model):
    meta = model.get('Metadata') or {}
    return model.get('SHA256') or meta.get('SHA256')


def download_model(name: str, dest_dir: Optional[str] = None,
                   index: Optional[str] = None, progress: bool = True) -> str:
    """Download (or find in the cache) the verified weights of ``name``."""
    model = get_model_info(name, index)
    url = model.get('Weights')
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
    if filename.startswith(('http://', 'https://')):
        return download(filename)
    return require_local(filename)


def load_from_zoo(filename: str, map_location=None) -> dict:
    """mmengine CheckpointLoader scheme ``zoo://NAME``."""
    name = filename[len('zoo://'):]
    return load_checkpoint_file(download_model(name, progress=False),
                                map_location=map_location or 'cpu')


def load_from_http_verified(filename: str, map_location=None) -> dict:
    """mmengine CheckpointLoader scheme for http(s) URLs: downloaded through
    :func:`download` (hash in the name checked when present) and opened with
    ``weights_only=True``. mmengine's own http loader unpickles anything."""
    return load_checkpoint_file(download(filename, progress=False),
                                map_location=map_location or 'cpu')


def register_mmpretrain_models() -> None:
    """Make the zoo's classification models known to mmpretrain's ModelHub
    (``mmpretrain.get_model(NAME, pretrained=True)``)."""
    from mmpretrain.apis import ModelHub
    root = config_root()
    path = osp.join(osp.dirname(__file__), 'metafiles', 'classification.yml')
    for name in [m.name for m in _models_of(path)]:
        if ModelHub.has(name.lower()):
            return
    ModelHub.register_model_index(path, config_prefix=root)


__all__ = ['list_models', 'config_root', 'get_model_info', 'download_model',
           'download', 'resolve_checkpoint', 'cache_dir', 'DownloadError',
           'register_mmpretrain_models']
