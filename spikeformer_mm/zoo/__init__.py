"""The model zoo: OpenMMLab model-index metadata, verified downloads, and
loading by name (``zoo://NAME`` in any checkpoint field of a config).

    python -m spikeformer_mm.zoo list [--index FILE]
    python -m spikeformer_mm.zoo download NAME [--dest DIR] [--index FILE]

``--index`` (or ``$SPIKEFORMER_ZOO_INDEX``, ``:``-separated) adds your own
model-index.yml files (an organisation's private zoo); their ``Weights``
URLs are served through ``$SPIKEFORMER_ZOO_MIRROR`` when it is set.

Modules: :mod:`.index` (the model index), :mod:`.fetch` (downloads,
conversion, checkpoint loaders), :mod:`.mmpretrain_models`; the package
only re-exports.
"""
from .download import (DownloadError, cache_dir,  # noqa: F401
                       check_sha256, download)
from .fetch import (PAPER_CONVERTERS, convert_paper_weights,  # noqa: F401
                    download_model, fetch_and_convert, load_from_hf,
                    load_from_http_verified, load_from_zoo,
                    resolve_checkpoint)
from .index import (INDEX_ENV, PACKAGE_INDEX, STRING_FIELDS,  # noqa: F401
                    ZooModel, config_root, get_model_info, index_files,
                    list_models)
from .mmpretrain_models import register_mmpretrain_models  # noqa: F401

__all__ = ['list_models', 'config_root', 'get_model_info', 'download_model',
           'download', 'resolve_checkpoint', 'cache_dir', 'DownloadError',
           'register_mmpretrain_models']
