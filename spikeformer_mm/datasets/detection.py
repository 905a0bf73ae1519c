"""The digits detection dataset for mmdet."""
from mmdet.datasets import CocoDataset
from mmengine.logging import print_log

from ..registry import DATASETS
from .digits import CLASSES, PALETTE, check_canvas, ensure_dataset


@DATASETS.register_module()
class DigitsDetection(CocoDataset):
    """Digits scattered on canvases, COCO instances (boxes and masks),
    generated and checked on first use (:mod:`spikeformer_mm.datasets.digits`).

    Args:
        data_root (str): where the data lives (built there if needed).
        split (str): ``'train'`` or ``'val'``.
        canvas (dict, optional): generator settings (``size``, ``digits``,
            ``scale``, ``num_train``, ``num_val``, ``seed``) of
            :func:`spikeformer_mm.datasets.digits.write_detection`; recorded
            in the manifest. Defaults to the documented 96x96 canvases.
        **kwargs: passed to mmdet's ``CocoDataset``.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self, data_root, split='train', canvas=None, **kwargs):
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        ensure_dataset(data_root, 'detection',
                       logger=lambda m: print_log(m, logger='current'),
                       **check_canvas('detection', canvas))
        super().__init__(data_root=data_root,
                         ann_file=f'annotations/{split}.json',
                         data_prefix=dict(img='images/'), **kwargs)
