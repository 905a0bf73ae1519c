"""The model index: the package's ``model-index.yml`` (OpenMMLab's
metafile format) and any the user adds, read into ``ZooModel`` entries."""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Union


PACKAGE_INDEX = osp.join(osp.dirname(__file__), 'model-index.yml')

INDEX_ENV = 'SPIKEFORMER_ZOO_INDEX'
_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def config_root() -> str:
    """The folder that the metafiles' ``Config: configs/...`` paths are
    relative to: ``spikeformer_mm/.mim`` in a regular install (setup.py ships
    the configs there, as mmpretrain does), the checkout in an editable one
    (whose ``.mim/configs`` is a link to it, or absent)."""
    mim = osp.join(_PACKAGE, '.mim')
    if osp.isdir(osp.join(mim, 'configs')) and \
            not osp.islink(osp.join(mim, 'configs')):
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
        for key in STRING_FIELDS:
            if m.get(key) is not None and not isinstance(m[key], str):
                raise ValueError(
                    f'{path}: model {m["Name"]!r}: {key} must be a string '
                    f'({STRING_FIELDS[key]}), got {type(m[key]).__name__} '
                    f'{m[key]!r}')
        models.append(ZooModel(m, index=path))
    return models


# the fields of an index entry that must be text, and what they hold
STRING_FIELDS = {
    'Name': 'the name models are downloaded by',
    'Config': 'a config path',
    'Weights': 'a URL or zoo:// / hf:// / gdrive:// source',
}


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
