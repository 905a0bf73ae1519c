"""Safe reading and atomic writing for everything mmengine does with files,
for the configs that name this module: ``custom_imports`` of
``configs/_base_/safety.py``, which every config of this toolbox inherits.

mmengine has one checkpoint loader per path prefix and one file backend per
prefix, and no per-config setting for either, so importing this module
registers (:func:`install`):

* the loader of local files: :func:`spikeformer_mm.checkpoint.load_checkpoint_file`
  (``weights_only=True`` with exactly the types mmengine's own checkpoints
  hold: torch >= 2.6 refuses those by default and mmengine 0.10.7 never
  says otherwise, so ``--resume``, ``load_from`` and ``init_cfg`` Pretrained
  could not read mmengine's checkpoints);
* the loader of ``http(s)://``: the zoo's verified download, then the same
  safe load (mmengine's own http loader unpickles anything);
* ``zoo://NAME``: a model of the zoo, by name; ``hf://OWNER/REPO/FILE``:
  a Hugging Face Hub file, checked against the zoo index's sha256;
* the local file backend :class:`AtomicLocalBackend`: every file mmengine
  writes to a local path (checkpoints, the ``last_checkpoint`` pointer,
  logs' JSON dumps) goes through :func:`spikeformer_mm.fileio.atomic_path`,
  so a ``kill -9`` or a full disk during a save leaves the previous file,
  never a torn one under the final name (mmengine's ``LocalBackend.put``
  writes in place).

A config is read before anything is built, so every tool that reads one
(``tools/train.py``, mmdet's ``init_detector``, mmpretrain's ``get_model``,
mmseg's ``init_model``) loads and saves this way. Importing
``spikeformer_mm`` alone changes none of this.
"""
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader

from ..checkpoint import load_checkpoint_file
from ..checkpoint.files import write_error
from ..fileio import atomic_path
from ..zoo import load_from_hf, load_from_http_verified, load_from_zoo


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose writes are atomic
    (:func:`~spikeformer_mm.fileio.atomic_path`); a write that fails (a
    full disk) names the file and the space left."""

    def put(self, obj, filepath):
        try:
            with atomic_path(str(filepath)) as tmp:
                with open(tmp, 'wb') as f:
                    f.write(obj)
        except OSError as e:
            raise write_error(str(filepath), e) from None

    def put_text(self, obj, filepath, encoding='utf-8'):
        try:
            with atomic_path(str(filepath)) as tmp:
                with open(tmp, 'w', encoding=encoding) as f:
                    f.write(obj)
        except OSError as e:
            raise write_error(str(filepath), e) from None


def load_local(filename: str, map_location=None) -> dict:
    """mmengine CheckpointLoader scheme for local paths."""
    return load_checkpoint_file(filename, map_location=map_location or 'cpu')


def install() -> None:
    """Register the loaders and the backend (module docstring); idempotent."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local,
                                     force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http_verified,
        force=True)
    CheckpointLoader.register_scheme(prefixes='zoo://', loader=load_from_zoo,
                                     force=True)
    CheckpointLoader.register_scheme(prefixes='hf://', loader=load_from_hf,
                                     force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    from mmengine.fileio import io
    for key in [k for k in io.backend_instances if k.startswith(':')]:
        del io.backend_instances[key]  # local backends made before


install()
