"""Building a config's model with its weights, the one way every tool and
analysis does it."""
from typing import Optional, Union

import torch
from mmengine.config import Config

from ..checkpoint import load_checkpoint_file, load_weights
from ..deploy import switch_to_deploy
from ..zoo import resolve_checkpoint
from .config import innermost_dataset, load_config


def _config_metainfo(cfg) -> Optional[dict]:
    """``METAINFO`` (classes, palette) of the config's test dataset class,
    without building the dataset; None if there is none."""
    from mmengine.registry import DATASETS
    dl = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    ds = innermost_dataset(dl.get('dataset') or {})
    try:
        cls = DATASETS.get(ds.get('type')) if ds.get('type') else None
    except Exception:  # a type this scope cannot import
        cls = None
    meta = getattr(cls, 'METAINFO', None)
    return dict(meta) if meta else None


def use_safe_loaders() -> None:
    """Make mmengine load checkpoints the safe way whatever the caller
    imported (``configs/_base_/safety.py`` does it for a config read from
    a file; a Config built in code, or code that imports only
    ``spikeformer_mm``, would get mmengine's own http loader, which keeps
    downloads by file name: a stale file, or another URL's file of the
    same name). Idempotent."""
    import importlib
    from .config import SAFETY_IMPORT
    importlib.import_module(SAFETY_IMPORT)


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               deploy: Union[bool, str] = False,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> torch.nn.Module:
    """Build the model of ``config`` (a path or a Config) in eval mode, the
    one way every tool does it: weights from ``checkpoint`` (safe loading;
    strict unless told otherwise, see
    :func:`spikeformer_mm.checkpoint.load_weights`), then re-parameterised
    for inference if ``deploy`` (``True``/``'dense'`` or ``'factorised'``).

    The config is kept as ``model.cfg`` and its ``dataset_meta`` (classes,
    palette), when the checkpoint has one, as ``model.dataset_meta``, as the
    toolboxes' own ``init_*`` functions do.
    """
    from mmengine.registry import MODELS, init_default_scope
    use_safe_loaders()
    cfg = load_config(config, cfg_options) if isinstance(config, str) \
        else config
    if checkpoint is not None:
        checkpoint = resolve_checkpoint(checkpoint)  # zoo://, URL or file
        # the checkpoint has the weights: no pretrained backbone is read
        if cfg.model.get('backbone', {}).get('init_cfg'):
            cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model_cfg = cfg.model
    if cfg.get('data_preprocessor') is not None and \
            'data_preprocessor' not in model_cfg:
        # as mmengine's Runner does with a top-level data_preprocessor
        # (mmpretrain configs: normalisation, the event preprocessor)
        model_cfg = dict(model_cfg, data_preprocessor=cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    meta = {}
    if checkpoint is not None:
        meta = load_model_weights(model, checkpoint, strict=strict)
    # where mmdet/mmseg (cfg, dataset_meta) and mmpretrain (_config,
    # _dataset_meta) inference functions look for them
    model.cfg = model._config = cfg
    model.dataset_meta = model._dataset_meta = \
        meta.get('dataset_meta') or _config_metainfo(cfg)
    model.to(device).eval()
    if deploy:  # backbone, spiking neck and heads
        switch_to_deploy(model, deploy)
    return model




def load_model_weights(model: torch.nn.Module, checkpoint: str,
                       strict: bool = True) -> dict:
    """:func:`~spikeformer_mm.checkpoint.load_weights` for a checkpoint of
    any form: one written by ``reparameterize.py`` (``meta['deploy']``: its
    backbone, spiking neck and heads folded) deploys ``model`` the same way
    first, so the config that trained it loads it. ``checkpoint``: a file,
    ``zoo://NAME``, ``hf://...`` or an http(s) URL (downloaded, verified).
    Returns its ``meta``."""
    use_safe_loaders()
    checkpoint = resolve_checkpoint(checkpoint)
    ck = load_checkpoint_file(checkpoint)
    form = (ck.get('meta') or {}).get('deploy') if isinstance(ck, dict) \
        else None
    if form:
        switch_to_deploy(model, form)
    return load_weights(model, checkpoint, strict=strict, checkpoint=ck)
