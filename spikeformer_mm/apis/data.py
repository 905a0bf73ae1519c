"""A config's images as model inputs: its val/test set, or random images
through its test pipeline."""
import os.path as osp
import tempfile
from typing import Iterator, Optional, Tuple


import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from .config import innermost_dataset


def _test_pipeline(cfg):
    dl = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if dl is None:
        raise ValueError('the config has no test_dataloader')
    ds = innermost_dataset(dl['dataset'])
    return [t for t in ds['pipeline']
            if 'Annotation' not in t['type'] and 'Check' not in t['type']]


def random_batches(cfg: Config, num_images: int, img_size: Tuple[int, int],
                   seed: int = 0) -> Iterator[dict]:
    """Random RGB images through the config's test pipeline (annotations
    dropped), one per batch."""
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from PIL import Image
    pipeline = Compose(_test_pipeline(cfg))
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as d:
        for i in range(num_images):
            path = osp.join(d, f'{i}.png')
            Image.fromarray(rng.integers(0, 256, (*img_size, 3),
                                         dtype=np.uint8)).save(path)
            yield pseudo_collate([pipeline(dict(img_path=path, img_id=i))])


def dataset_batches(cfg: Config, num_images: int) -> Iterator[dict]:
    from mmengine.runner import Runner
    dl_cfg = dict(cfg.get('test_dataloader') or cfg.val_dataloader)
    dl_cfg.update(num_workers=0, persistent_workers=False)
    dl_cfg.pop('batch_size', None)
    loader = Runner.build_dataloader(dict(dl_cfg, batch_size=1))
    for i, batch in enumerate(loader):
        if i >= num_images:
            break
        yield batch


def val_inputs(cfg: Config, model: nn.Module, num_images: int,
               img_size: Optional[Tuple[int, int]] = None,
               batch: int = 8) -> list:
    """Preprocessed batches (of up to ``batch``) of the config's val images,
    resized to ``img_size`` (default: the first image's size; the exported
    graph has a fixed image size)."""
    images = []
    for one in dataset_batches(cfg, num_images):
        x = model.data_preprocessor(one, False)['inputs']
        if img_size is None:
            img_size = tuple(x.shape[-2:])
        if tuple(x.shape[-2:]) != tuple(img_size):
            x = nn.functional.interpolate(x, size=tuple(img_size),
                                          mode='bilinear',
                                          align_corners=False)
        images.append(x)
    if not images:
        raise ValueError('the config\'s test/val dataset gave no images')
    x = torch.cat(images)
    return list(x.split(batch))




def file_batch(cfg: Config, path: str) -> dict:
    """One input file (an image, or an event recording for an event config)
    through the config's test pipeline, annotations dropped, as a batch."""
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    if not osp.isfile(path):
        from ..checkpoint.files import MissingFileError
        raise MissingFileError(path, 'input')
    from ..visualization import check_image_size
    check_image_size(path)  # before anything decodes it
    pipeline = Compose(_test_pipeline(cfg))
    return pseudo_collate([pipeline(dict(img_path=path, img_id=0))])
