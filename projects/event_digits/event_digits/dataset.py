"""The event digits (or the real N-MNIST) as an mmpretrain dataset."""
import glob
import os.path as osp

from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from spikeformer_mm.registry import DATASETS

from .nmnist import SPLITS, ensure_event_digits


@DATASETS.register_module()
class NMNISTEvents(BaseDataset):
    """Event recordings in the N-MNIST layout (``<root>/Train|Test/<digit>/
    <id>.bin``, or tonic's structured ``.npy`` files), label from the
    folder. Each sample's ``img_path`` is its event file; the pipeline
    reads and bins it (``LoadEvents``, ``EventsToFrames``).

    Args:
        data_root (str): the dataset folder.
        split (str): ``'train'`` (``Train/``) or ``'val'``/``'test'``
            (``Test/``).
        build (dict, optional): build the embedded event digits there on
            first use with these settings of
            :func:`event_digits.nmnist.write_event_digits` (``{}`` for the
            defaults); ``None`` reads an existing copy, e.g. the real
            N-MNIST unpacked by the user.
        **kwargs: passed to mmpretrain's ``BaseDataset`` (``pipeline``...).
    """
    METAINFO = dict(classes=tuple(str(i) for i in range(10)))

    def __init__(self, data_root, split='train', build=None, **kwargs):
        if split not in SPLITS:
            raise ValueError(f'split must be one of {sorted(SPLITS)}, got '
                             f'{split!r}')
        if build is not None:
            ensure_event_digits(
                data_root, logger=lambda m: print_log(m, logger='current'),
                **build)
        self.split = split
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        folder = osp.join(self.data_root, SPLITS[self.split])
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{folder} not found: an N-MNIST-style dataset has '
                f'Train/<digit>/ and Test/<digit>/ folders of event files')
        data = []
        for label, name in enumerate(self.METAINFO['classes']):
            files = sorted(glob.glob(osp.join(folder, name, '*.bin')) +
                           glob.glob(osp.join(folder, name, '*.npy')))
            data += [dict(img_path=f, gt_label=label) for f in files]
        if not data:
            raise FileNotFoundError(f'{folder}: no event files (*.bin, '
                                    f'*.npy) under its digit folders')
        return data
