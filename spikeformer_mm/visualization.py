"""Pictures people can read: small inputs (the 64x64 and 96x96 digit
canvases) are drawn scaled up, pixels kept sharp (nearest neighbour), so
that boxes, masks and class labels drawn by mm's visualizers are legible.
"""
import copy
import math
from typing import Any, Tuple

import numpy as np
import torch


def display_scale(shape: Tuple[int, int], min_side: int = 512) -> int:
    """Integer factor that brings the short side of ``shape`` to at least
    ``min_side`` pixels (1 for images already that large)."""
    h, w = shape[:2]
    if min(h, w) < 1:
        raise ValueError(f'empty image of shape {tuple(shape)}')
    return max(1, math.ceil(min_side / min(h, w)))


def upscale(img: np.ndarray, s: int) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor (``H x W [x C]``)."""
    if s == 1:
        return img
    return np.repeat(np.repeat(img, s, axis=0), s, axis=1)


def upscale_det_sample(sample: Any, s: int) -> Any:
    """An mmdet ``DetDataSample``'s predictions in an image ``s`` times
    larger: boxes scaled, masks repeated (nearest)."""
    if s == 1:
        return sample
    sample = copy.deepcopy(sample)
    inst = sample.pred_instances
    inst.bboxes = inst.bboxes * s
    if 'masks' in inst:
        m = torch.as_tensor(inst.masks)
        inst.masks = m.repeat_interleave(s, -2).repeat_interleave(s, -1)
    return sample


def upscale_seg_sample(sample: Any, s: int) -> Any:
    """An mmseg ``SegDataSample``'s predicted label map ``s`` times larger
    (nearest)."""
    if s == 1:
        return sample
    from mmengine.structures import PixelData
    sample = copy.deepcopy(sample)
    data = sample.pred_sem_seg.data
    sample.pred_sem_seg = PixelData(
        data=data.repeat_interleave(s, dim=-2).repeat_interleave(s, dim=-1))
    return sample


def read_image(path: str) -> np.ndarray:
    """RGB array of an image file; ``ValueError`` naming the file for an
    empty, damaged or non-image file, or one under 2x2 pixels."""
    import mmcv
    try:
        img = mmcv.imread(path, channel_order='rgb')
    except Exception:  # empty or damaged file
        img = None
    if img is None or img.ndim != 3 or min(img.shape[:2]) < 2:
        raise ValueError(f'{path}: not a readable image (at least 2x2 '
                         f'pixels)')
    return img
