"""The SNN papers' event classification benchmarks, read with tonic, in the
layouts their releases unpack to:

- **DVS128 Gesture** (Amir et al. 2017), tonic's release (``ibmGestureTrain
  .tar.gz`` / ``ibmGestureTest.tar.gz``, the recordings already cut per
  gesture)::

      <root>/DVSGesture/ibmGestureTrain/user<NN>_<lighting>/<label>.npy
      <root>/DVSGesture/ibmGestureTest/...

  each ``.npy`` an ``[N, 4]`` array of ``x, y, p, t`` (t in ms), 128 x 128
  pixels, 11 classes. Listed by tonic's ``DVSGesture`` and read as its
  ``__getitem__`` reads a file (:func:`gesture_events`).
- **CIFAR10-DVS** (Li et al. 2017), the original release::

      <root>/<class>/cifar10_<class>_<k>.aedat

  jAER AEDAT 2.0 files (``#`` header lines, then big-endian 32-bit address
  and 32-bit timestamp in us), 128 x 128 pixels, 10 classes, read by
  tonic's ``tonic.io.read_dvs_128``. There is no fixed split: the SNN
  papers take the first 900 recordings of each class for training and the
  last 100 for testing (``split_at``).

Nothing is downloaded: a missing folder is an error that says what to
unpack where (tonic's classes would try to download).
"""
import glob
import os.path as osp

import numpy as np
from mmpretrain.datasets import BaseDataset

from spikeformer_mm.registry import DATASETS
from spikeformer_mm.validation import check_choice

from .emulator import EVENT_DTYPE

GESTURE_FOLDERS = {'train': 'ibmGestureTrain', 'val': 'ibmGestureTest',
                   'test': 'ibmGestureTest'}
CIFAR10_DVS_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                       'frog', 'horse', 'ship', 'truck')


def gesture_events(array: np.ndarray) -> np.ndarray:
    """A DVS128 Gesture recording of tonic's release (an ``[N, 4]`` array of
    ``x, y, p, t``, t in ms) as tonic's structured events (t in us): what
    ``DVSGesture.__getitem__`` does with the file, without a dataset
    object."""
    from numpy.lib.recfunctions import unstructured_to_structured
    from tonic.datasets import DVSGesture
    ev = array.astype(np.int64)
    ev[:, 3] *= 1000  # ms -> us, as tonic
    return unstructured_to_structured(ev, DVSGesture.dtype)


def read_aedat2_dvs128(path: str) -> np.ndarray:
    """A DVS128 recording in jAER's AEDAT 2.0 (CIFAR10-DVS's release) as
    structured events (``x, y, t, p``), checked: a file that is not AEDAT
    2.0, or is cut mid-event, raises a ``ValueError`` naming it.

    The header and the (address, timestamp) pairs are read by tonic's
    ``tonic.io.read_aedat_header_from_file`` and ``get_aer_events_from_file``;
    the address is decoded here (bit 0, bits 1-7 and bits 8-14) exactly as
    spikingjelly's ``CIFAR10DVS`` decodes it, which is what the SNN papers
    trained on: ``x = 127 - bits 8-14``, ``y = 127 - bits 1-7``, ``p = 1 -
    bit 0``. (tonic 1.7's own ``read_dvs_128`` fails on its header reader's
    return value, three values unpacked into two, and would give the image
    transposed.)"""
    from tonic.io import (get_aer_events_from_file,
                          read_aedat_header_from_file)
    try:
        version = read_aedat_header_from_file(path)[0]
    except Exception as e:  # tonic's own parsing errors
        raise ValueError(f'{path}: not an AEDAT file ({e!r})') from None
    if not 2 <= version < 3:
        raise ValueError(f'{path}: AEDAT {version}; CIFAR10-DVS recordings '
                         f'are AEDAT 2.0')
    # where the events start: after the '#' lines (tonic's reader is one
    # byte short when a file ends with its header); read byte by byte at
    # each line start, so the binary events are never read as a "line"
    start = 0
    with open(path, 'rb') as f:
        while f.read(1) == b'#':
            f.readline()
            start = f.tell()
    size = osp.getsize(path) - start
    if size % 8:
        raise ValueError(f'{path}: truncated AEDAT 2.0 file ({size} bytes of '
                         'events is not a whole number of 8-byte events)')
    raw = get_aer_events_from_file(path, version, start)
    if len(raw) == 0:
        raise ValueError(f'{path}: empty recording (no events)')
    addr = raw['address'].astype(np.int64)
    ev = np.empty(len(raw), EVENT_DTYPE)
    ev['x'] = 127 - ((addr >> 8) & 0x7F)
    ev['y'] = 127 - ((addr >> 1) & 0x7F)
    ev['p'] = 1 - (addr & 1)
    ev['t'] = raw['timeStamp']
    return ev


def _missing(folder, what):
    return FileNotFoundError(
        f'{folder} not found: {what}; nothing is downloaded at run time')


@DATASETS.register_module()
class DVSGestureEvents(BaseDataset):
    """DVS128 Gesture as an mmpretrain dataset: the recordings tonic's
    ``DVSGesture`` lists under ``<data_root>/DVSGesture/ibmGesture{Train,
    Test}``, label from the file name; ``img_path`` is the ``.npy`` that
    ``LoadEvents`` reads.

    Args:
        data_root (str): the folder given to tonic as ``save_to`` (it holds
            ``DVSGesture/``).
        split (str): ``'train'``, or ``'val'``/``'test'`` (the test users).
    """
    METAINFO = dict(classes=(
        'hand clapping', 'right hand wave', 'left hand wave', 'right arm cw',
        'right arm ccw', 'left arm cw', 'left arm ccw', 'arm roll',
        'air drums', 'air guitar', 'other gestures'))

    def __init__(self, data_root, split='train', **kwargs):
        check_choice('split', split, tuple(GESTURE_FOLDERS))
        self.split = split
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        import tonic
        folder = osp.join(self.data_root, 'DVSGesture',
                          GESTURE_FOLDERS[self.split])
        if not glob.glob(osp.join(folder, '*', '*.npy')):
            raise _missing(folder, 'unpack tonic\'s ibmGestureTrain.tar.gz '
                           'and ibmGestureTest.tar.gz into '
                           f'{osp.join(self.data_root, "DVSGesture")}')

        # tonic's walker without its download check (the class keeps tonic's
        # name: tonic finds its folder by the class's name)
        class DVSGesture(tonic.datasets.DVSGesture):
            def _check_exists(self):
                return True

        try:
            listed = DVSGesture(self.data_root, train=self.split == 'train')
        except ValueError as e:  # tonic parses folder and file names
            raise ValueError(
                f'{folder}: not tonic\'s DVS128 Gesture layout (folders '
                f'user<NN>_<lighting>, files <label>.npy): {e}') from None
        n = len(self.METAINFO['classes'])
        bad = [p for p, t in zip(listed.data, listed.targets)
               if not 0 <= t < n]
        if bad:
            raise ValueError(f'{bad[0]}: label {osp.basename(bad[0])[:-4]} '
                             f'outside the {n} gesture classes')
        return [dict(img_path=p, gt_label=t)
                for p, t in zip(listed.data, listed.targets)]


@DATASETS.register_module()
class CIFAR10DVSEvents(BaseDataset):
    """CIFAR10-DVS as an mmpretrain dataset, from the original release's
    class folders of AEDAT 2.0 files: the first ``split_at`` recordings of
    each class (in name order, by the number in the name) are ``train``,
    the rest ``val``/``test``.

    Args:
        data_root (str): the folder holding ``airplane/`` ... ``truck/``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        split_at (int): recordings per class for training. Defaults to 900
            (of 1,000: the split of the SNN papers).
    """
    METAINFO = dict(classes=CIFAR10_DVS_CLASSES)

    def __init__(self, data_root, split='train', split_at=900, **kwargs):
        check_choice('split', split, ('train', 'val', 'test'))
        if not isinstance(split_at, int) or split_at < 1:
            raise ValueError(f'split_at must be an integer >= 1, got '
                             f'{split_at!r}')
        self.split, self.split_at = split, split_at
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        def number(path):
            digits = ''.join(c for c in osp.basename(path).rsplit('_', 1)[-1]
                             if c.isdigit())
            return int(digits) if digits else -1

        data = []
        for label, name in enumerate(CIFAR10_DVS_CLASSES):
            folder = osp.join(self.data_root, name)
            if not osp.isdir(folder):
                raise _missing(folder, 'CIFAR10-DVS has one folder of .aedat '
                               'recordings per class (airplane ... truck)')
            files = sorted(glob.glob(osp.join(folder, '*.aedat')),
                           key=lambda p: (number(p), p))
            files = files[:self.split_at] if self.split == 'train' else \
                files[self.split_at:]
            data += [dict(img_path=f, gt_label=label) for f in files]
        if not data:
            raise FileNotFoundError(f'{self.data_root}: no .aedat recordings '
                                    f'for split {self.split!r} (split_at='
                                    f'{self.split_at})')
        return data
