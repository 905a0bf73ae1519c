"""Pictures people can read: small inputs (the 64x64 and 96x96 digit
canvases) are drawn scaled up, pixels kept sharp (nearest neighbour), so
that boxes, masks and class labels drawn by mm's visualizers are legible.
"""
import copy
import math
from typing import Any, Optional, Tuple

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


# The largest image a tool or the browser demo takes (4096 x 4096): models
# see it at their test pipeline's size anyway, and decoding and drawing a
# larger one took minutes and gigabytes (an 8000 x 8000 PNG of 202 kB: 17.7
# GB resident in the browser demo, no answer in 150 s).
MAX_IMAGE_PIXELS = 4096 * 4096
# pictures of spikes are drawn over the image at most this long a side
MAX_DISPLAY_SIDE = 1024


def check_image_size(path: str) -> None:
    """Refuse, naming the file and the limit, an image file of more than
    :data:`MAX_IMAGE_PIXELS`, from its header (nothing is decoded); a file
    that is no image PIL knows is left to its reader."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Image.DecompressionBombError as e:  # PIL's own limit, far above
        raise ValueError(f'{path}: {e}') from None
    except Exception:  # not an image PIL reads (an event recording, ...)
        return
    if w * h > MAX_IMAGE_PIXELS:
        raise ValueError(
            f'{path}: {w} x {h} pixels ({w * h / 1e6:.1f} MP), above the '
            f'{MAX_IMAGE_PIXELS / 1e6:.1f} MP this toolbox takes (spikeformer_'
            f'mm.visualization.MAX_IMAGE_PIXELS); resize it first')


def fit_display(img: np.ndarray, side: int = MAX_DISPLAY_SIDE) -> np.ndarray:
    """``img`` shrunk (area averaging) so that its long side is at most
    ``side`` pixels; smaller images as they are."""
    h, w = img.shape[:2]
    if max(h, w) <= side:
        return img
    import mmcv
    return mmcv.imrescale(img, side / max(h, w), interpolation='area')


def read_image(path: str) -> np.ndarray:
    """RGB array of an image file; ``ValueError`` naming the file for an
    empty, damaged or non-image file, one under 2x2 pixels, or one above
    :data:`MAX_IMAGE_PIXELS`."""
    import mmcv
    check_image_size(path)
    try:
        img = mmcv.imread(path, channel_order='rgb')
    except Exception:  # empty or damaged file
        img = None
    if img is None or img.ndim != 3 or min(img.shape[:2]) < 2:
        raise ValueError(f'{path}: not a readable image (at least 2x2 '
                         f'pixels)')
    return img


# ------------------------------------------------------------ spike maps
def _heat(featmap: torch.Tensor, base: Optional[np.ndarray],
          size: Tuple[int, int]) -> np.ndarray:
    from mmengine.visualization import Visualizer
    return Visualizer.draw_featmap(featmap, base,
                                   channel_reduction='squeeze_mean',
                                   resize_shape=size)


def raster(spikes: torch.Tensor, neurons: int = 64, seed: int = 0,
           row: int = 6, width: int = 256) -> np.ndarray:
    """A raster of ``neurons`` sampled neurons (rows, ``row`` pixels each)
    over the time steps (columns, ``width`` pixels in all) of ``spikes``
    ``[T, ...]``: white where a neuron fired, grey lines between steps; RGB.
    """
    T = spikes.shape[0]
    flat = spikes.reshape(T, -1)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(flat.shape[1], generator=g)[:neurons]
    grid = (flat[:, idx].t() > 0).numpy().astype(np.uint8) * 255  # [N, T]
    col = max(8, width // T)
    img = np.repeat(np.repeat(grid, row, axis=0), col, axis=1)
    img[:, ::col] = 96  # step boundaries
    return np.stack([img] * 3, -1)


def spike_pictures(spikes: dict, image: Optional[np.ndarray] = None,
                   channels: int = 4, sample: int = 0,
                   raster_neurons: int = 64) -> dict:
    """Pictures of recorded spikes (:class:`~spikeformer_mm.analysis.
    spike_maps.SpikeRecorder`), as RGB arrays by name:

    * ``stage<s>_t<t>_mean``: the spike map of stage ``s`` at step ``t``
      (mean over channels: the fraction of channels firing at each
      position), over ``image`` when given;
    * ``stage<s>_t<t>_channels``: the ``channels`` most active channels;
    * ``stage<s>_rate``: the firing rate per position over all steps and
      channels, over ``image``;
    * ``raster``: sampled neurons of the first recorded stage over T;
    * ``overview`` (with ``image``): a grid, one row per stage (labelled
      at the left), one column per time step (labelled at the top), the
      input in the first column of the first row: each map at the size of
      the other pictures (short side >= 256 px), legible when shown at a
      page's width.

    Small maps are drawn scaled up (short side >= 256 px)."""
    from mmengine.visualization import Visualizer
    base = None
    if image is not None:
        image = fit_display(image)
        base = upscale(image, display_scale(image.shape, 256))
    pics = {}
    for s, x in sorted(spikes.items()):
        x = x[:, sample]  # [T, C, H, W]
        size = base.shape[:2] if base is not None else tuple(
            d * display_scale(x.shape[-2:], 256) for d in x.shape[-2:])
        for t in range(x.shape[0]):
            pics[f'stage{s}_t{t}_mean'] = _heat(x[t], base, size)
            k = min(channels, x.shape[1])
            if k > 0:
                pics[f'stage{s}_t{t}_channels'] = Visualizer.draw_featmap(
                    x[t], None, channel_reduction=None, topk=k,
                    arrangement=(1, k), resize_shape=size)
        pics[f'stage{s}_rate'] = _heat(x.mean(0), base, size)
    if spikes:
        first = spikes[min(spikes)][:, sample]
        pics['raster'] = raster(first, raster_neurons)
    if base is not None and spikes:
        stages = sorted(spikes)
        T = max(spikes[s].shape[0] for s in stages)
        pics['overview'] = labelled_grid(
            [[base if i == 0 else None] +
             [pics.get(f'stage{s}_t{t}_mean') for t in range(T)]
             for i, s in enumerate(stages)],
            row_labels=[f'stage {s}' for s in stages],
            col_labels=['input'] + [f't = {t + 1}' for t in range(T)])
    return pics


def labelled_grid(cells: list, row_labels: list, col_labels: list,
                  gap: int = 8) -> np.ndarray:
    """RGB pictures ``cells[row][col]`` (``None``: left white; all cells
    of one size) in a grid on white, with a label above each column and at
    the left of each row (OpenCV's Hershey font)."""
    import cv2
    h, w = next(c for row in cells for c in row if c is not None).shape[:2]
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, max(0.5, h / 320), 1 + (
        h >= 400)
    text_h = cv2.getTextSize('Ag', font, scale, thick)[0][1] + 2 * gap
    left = max(cv2.getTextSize(t, font, scale, thick)[0][0]
               for t in row_labels) + 2 * gap
    rows, cols = len(cells), max(len(r) for r in cells)
    out = np.full((text_h + rows * (h + gap), left + cols * (w + gap), 3),
                  255, np.uint8)
    for j, label in enumerate(col_labels[:cols]):
        x = left + j * (w + gap)
        cv2.putText(out, label, (x + 2, text_h - gap), font, scale,
                    (0, 0, 0), thick, cv2.LINE_AA)
    for i, row in enumerate(cells):
        y = text_h + i * (h + gap)
        cv2.putText(out, row_labels[i], (gap, y + h // 2), font, scale,
                    (0, 0, 0), thick, cv2.LINE_AA)
        for j, cell in enumerate(row):
            if cell is not None:
                x = left + j * (w + gap)
                out[y:y + h, x:x + w] = cell
    return out


def event_frames_beside_spikes(frames: torch.Tensor,
                               spikes: torch.Tensor) -> list:
    """One RGB picture per time step: the event frame (ON counts red, OFF
    green) beside the spike map of a stage at that step; ``frames``
    ``[T, 2, H, W]``, ``spikes`` ``[T, C, h, w]``."""
    out = []
    T, _, H, W = frames.shape
    s = display_scale((H, W), 256)
    for t in range(T):
        f = frames[t].float()
        f = (f / f.max().clamp(min=1) * 255).byte().numpy()
        ev = np.zeros((H, W, 3), np.uint8)
        ev[..., 0], ev[..., 1] = f[0], f[1]
        ev = upscale(ev, s)
        out.append(np.concatenate(
            [ev, _heat(spikes[t], None, ev.shape[:2])], axis=1))
    return out


def save_picture(img: np.ndarray, path: str) -> str:
    """Write an RGB array as a PNG, atomically."""
    from PIL import Image

    from .fileio import atomic_path
    with atomic_path(path, suffix='.png') as tmp:
        Image.fromarray(img).save(tmp, format='PNG')
    return path


def save_gif(frames: list, path: str, ms_per_frame: int = 400) -> str:
    """Write RGB arrays as an animated GIF (looping), atomically."""
    from PIL import Image

    from .fileio import atomic_path
    images = [Image.fromarray(f) for f in frames]
    with atomic_path(path, suffix='.gif') as tmp:
        images[0].save(tmp, format='GIF', save_all=True,
                       append_images=images[1:], duration=ms_per_frame,
                       loop=0)
    return path
