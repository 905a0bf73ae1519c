"""The digits classification dataset for mmpretrain."""
from mmengine.logging import print_log
from mmpretrain.datasets import CustomDataset

from ..registry import DATASETS
from .digits import CLASSES, ensure_dataset


@DATASETS.register_module()
class DigitsClassification(CustomDataset):
    """scikit-learn's digits as an mmpretrain ``CustomDataset``, generated
    (and checked) on first use; see :mod:`spikeformer_mm.datasets.digits`.

    Args:
        data_root (str): where the data lives (built there if needed).
        split (str): ``'train'`` or ``'val'``.
        img_size (int): side of the upsampled images. Defaults to 32.
        **kwargs: passed to ``CustomDataset`` (``pipeline``, ...).
    """
    METAINFO = dict(classes=CLASSES)

    def __init__(self, data_root, split='train', img_size=32, **kwargs):
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        ensure_dataset(data_root, 'classification',
                       logger=lambda m: print_log(m, logger='current'),
                       size=img_size)
        super().__init__(data_root=data_root, ann_file=f'meta/{split}.txt',
                         data_prefix='images', with_label=True, **kwargs)
