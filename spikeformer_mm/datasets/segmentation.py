"""The digits segmentation dataset for mmseg."""
import os.path as osp

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from ..registry import DATASETS
from .digits import CLASSES, PALETTE, check_canvas, ensure_dataset


@DATASETS.register_module()
class DigitsSegmentation(BaseSegDataset):
    """Digit canvases with per-pixel labels (0 background, 1 + digit),
    generated and checked on first use (:mod:`spikeformer_mm.datasets.digits`).

    The canvases are those of
    :func:`spikeformer_mm.datasets.digits.write_segmentation`, made under
    ``data_root`` if needed; their settings are recorded in the manifest,
    so a copy made with other settings is rebuilt.

    Args:
        data_root (str): where the data lives.
        split (str): ``'train'`` or ``'val'``.
        canvas (dict, optional): ``size``, ``digits``, ``scale``, ``dilate``,
            ``num_train``, ``num_val``, ``seed``; by default the documented
            64x64 canvases.
        **kwargs: passed to mmseg's ``BaseSegDataset``.
    """
    METAINFO = dict(
        classes=('background', ) + CLASSES,
        palette=[[0, 0, 0]] + [list(c) for c in PALETTE])

    def __init__(self, data_root, split='train', canvas=None, **kwargs):
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        ensure_dataset(data_root, 'segmentation',
                       logger=lambda m: print_log(m, logger='current'),
                       **check_canvas('segmentation', canvas))
        super().__init__(
            data_root=data_root, img_suffix='.png', seg_map_suffix='.png',
            reduce_zero_label=False,
            data_prefix=dict(img_path=f'img_dir/{split}',
                             seg_map_path=f'ann_dir/{split}'), **kwargs)

    def load_data_list(self):
        data_list = super().load_data_list()
        missing = [d['seg_map_path'] for d in data_list
                   if not osp.isfile(d['seg_map_path'])]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} label map(s) missing, e.g. {missing[0]}')
        return data_list
