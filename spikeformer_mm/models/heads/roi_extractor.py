"""RoIAlign as two matrix products, and mmdet's RoI extractor that takes it.

RoIAlign (He et al., Mask R-CNN; torchvision's and mmcv's ``roi_align``)
averages bilinear samples on a grid in each output bin. A bilinear weight
is the product of a weight along y and one along x, a sample outside the
map is zero on either axis, and the grid is the product of a row of y
positions and a column of x positions: so each RoI's output is
``Wy @ F @ Wx^T`` with ``Wy`` of shape ``[out_h, H]`` and ``Wx`` of shape
``[out_w, W]`` (each row the grid's averaged bilinear weights along one
axis), the same sum in another order. :class:`SeparableRoIAlign` builds
those weights and runs the products as batched matrix multiplies, whose
backward is two more: on a CPU the scalar kernels of torchvision and
mmcv spend most of a small detector's RoI time in their backward, which
scatters every sample's four gradients one by one (28 ms of 294 per
iteration of the event-detection demo, 2026-12-07, profiled with one
thread on an AMD EPYC). Equal to ``torchvision.ops.roi_align`` to float
rounding, forward and backward (tests).

mmdet's ``SingleRoIExtractor`` looks its ``roi_layer`` up in ``mmcv.ops``
only; :class:`SingleRoIExtractor` here also finds the layers of this
project's registry (``type='spikeformer_mm.SeparableRoIAlign'``).
"""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.roi_heads.roi_extractors import \
    SingleRoIExtractor as MMDetSingleRoIExtractor

from ...registry import MODELS


def _axis_weights(start: torch.Tensor, bin_size: torch.Tensor,
                  grid: torch.Tensor, max_grid: int, out: int,
                  size: int) -> torch.Tensor:
    """``[R, out, size]``: for each RoI and output bin along one axis, the
    bilinear weights of its ``grid`` samples on the map's ``size`` cells,
    averaged over the samples (torchvision's rules: a sample below -1 or
    above ``size`` is zero, one in ``[-1, 0)`` reads cell 0, one at or
    past the last cell reads the last cell)."""
    r = start.shape[0]
    dev, dt = start.device, start.dtype
    p = torch.arange(out, device=dev, dtype=dt).view(1, out, 1)
    i = torch.arange(max_grid, device=dev, dtype=dt).view(1, 1, max_grid)
    g = grid.view(r, 1, 1)
    n = g.clamp(min=1).to(dt)  # no sample in an empty box (grid 0)
    b = bin_size.view(r, 1, 1)
    pos = start.view(r, 1, 1) + p * b + (i + 0.5) * b / n  # [R, out, G]
    used = (i < g) & (pos >= -1.0) & (pos <= size)
    pos = pos.clamp(min=0)
    low = pos.floor()
    last = low >= size - 1
    low = torch.where(last, torch.full_like(low, size - 1), low)
    pos = torch.where(last, low, pos)
    high = torch.where(last, low, low + 1)
    frac = pos - low
    keep = used.to(dt) / n
    # the samples of a bin add up on the cells they read
    w = torch.zeros(r, out, size, device=dev, dtype=dt)
    w.scatter_add_(2, low.long(), (1 - frac) * keep)
    w.scatter_add_(2, high.long(), frac * keep)
    return w


@MODELS.register_module()
class SeparableRoIAlign(nn.Module):
    """RoIAlign (average pooling, torchvision's and mmcv's arguments and
    results) as ``Wy @ F @ Wx^T`` per RoI (see the module's docstring).

    Args:
        output_size (int | tuple[int, int]): ``(out_h, out_w)``.
        spatial_scale (float): feature map size / image size.
        sampling_ratio (int): samples per bin along each axis; 0 takes
            ``ceil(roi size / output size)`` per RoI, as torchvision.
        aligned (bool): shift the box by -0.5 pixel (mmcv's default).
    """

    def __init__(self, output_size: Union[int, Tuple[int, int]],
                 spatial_scale: float = 1.0, sampling_ratio: int = 0,
                 aligned: bool = True):
        super().__init__()
        size = (output_size, output_size) if isinstance(output_size, int) \
            else tuple(output_size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f'SeparableRoIAlign: output_size must be a '
                             f'positive int or (h, w), got {output_size!r}')
        if sampling_ratio < 0:
            raise ValueError(f'SeparableRoIAlign: sampling_ratio must be >= '
                             f'0, got {sampling_ratio}')
        self.output_size = size
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)

    def forward(self, input: torch.Tensor,
                rois: torch.Tensor) -> torch.Tensor:
        """``input`` ``[B, C, H, W]``, ``rois`` ``[R, 5]`` (batch index,
        x1, y1, x2, y2 in image pixels) -> ``[R, C, out_h, out_w]``."""
        if input.dim() != 4 or rois.dim() != 2 or rois.shape[1] != 5:
            raise ValueError(f'SeparableRoIAlign: input [B, C, H, W] and '
                             f'rois [R, 5], got {tuple(input.shape)} and '
                             f'{tuple(rois.shape)}')
        _, c, h, w = input.shape
        oh, ow = self.output_size
        if rois.shape[0] == 0:  # zeros that keep the graph for backward
            return input.new_zeros(0, c, oh, ow) + 0 * input.sum()
        box = rois[:, 1:].to(input.dtype) * self.spatial_scale - (
            0.5 if self.aligned else 0.0)
        x1, y1, x2, y2 = box.unbind(1)
        rw, rh = x2 - x1, y2 - y1
        if not self.aligned:
            rw, rh = rw.clamp(min=1.0), rh.clamp(min=1.0)
        bh, bw = rh / oh, rw / ow
        if self.sampling_ratio > 0:
            gh = torch.full_like(rh, self.sampling_ratio, dtype=torch.long)
            gw = gh
        else:
            gh = torch.ceil(rh / oh).long()  # as torchvision: 0 in an
            gw = torch.ceil(rw / ow).long()  # empty box, whose bins are 0
        with torch.no_grad():
            wy = _axis_weights(y1, bh, gh, max(int(gh.max()), 1), oh, h)
            wx = _axis_weights(x1, bw, gw, max(int(gw.max()), 1), ow, w)
        # per image: its RoIs' Wy (stacked) times F as [H, C*W] (a copy
        # of the small map), then each RoI's rows times its Wx^T (bmm);
        # the fastest of four orders measured on a CPU
        idx = rois[:, 0].long()
        parts, order = [], []
        for b in idx.unique().tolist():
            sel = (idx == b).nonzero().squeeze(1)
            r = sel.numel()
            f = input[b].permute(1, 0, 2).reshape(h, c * w)
            a = (wy[sel].reshape(r * oh, h) @ f).view(r, oh * c, w)
            o = torch.bmm(a, wx[sel].transpose(1, 2))  # [r, oh * C, ow]
            parts.append(o.view(r, oh, c, ow).transpose(1, 2))
            order.append(sel)
        order = torch.cat(order)
        out = torch.cat(parts)
        if bool((order[1:] > order[:-1]).all()):  # mmdet's: image order
            return out
        return out.index_copy(0, order, out)

    def extra_repr(self) -> str:
        return (f'output_size={self.output_size}, spatial_scale='
                f'{self.spatial_scale}, sampling_ratio={self.sampling_ratio}, '
                f'aligned={self.aligned}')


@MODELS.register_module()
class SingleRoIExtractor(MMDetSingleRoIExtractor):
    """mmdet's ``SingleRoIExtractor`` whose ``roi_layer`` may also be a
    layer of this project's registry (e.g. ``dict(type='spikeformer_mm.
    SeparableRoIAlign', output_size=7, sampling_ratio=1)``); an ``mmcv.ops``
    name is built as mmdet builds it."""

    def build_roi_layers(self, layer_cfg: dict,
                         featmap_strides: Sequence[int]) -> nn.ModuleList:
        cfg = dict(layer_cfg)
        layer = cfg.get('type')
        if isinstance(layer, str):
            from mmcv import ops
            if not hasattr(ops, layer):
                found = MODELS.get(layer)
                if found is None:
                    raise KeyError(f'roi_layer: {layer!r} is neither in '
                                   'mmcv.ops nor in the spikeformer_mm '
                                   'registry')
                cfg['type'] = found
        return super().build_roi_layers(cfg, featmap_strides)


__all__ = ['SeparableRoIAlign', 'SingleRoIExtractor']
