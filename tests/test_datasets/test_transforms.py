import numpy as np
import pytest

from spikeformer_mm.datasets.transforms import CheckSegSample


def sample(seg, img_shape=(8, 8)):
    return dict(img=np.zeros(img_shape + (3, ), np.uint8), gt_seg_map=seg,
                img_path='a.png', seg_map_path='labels/a.png')


def test_good_sample_passes():
    seg = np.zeros((8, 8), np.uint8)
    seg[0, 0], seg[1, 1] = 10, 255
    assert CheckSegSample(num_classes=11)(sample(seg)) is not None


def test_labels_outside_classes():
    seg = np.zeros((8, 8), np.uint8)
    seg[2, 2] = 12
    with pytest.raises(ValueError, match=r'labels/a.png: labels \[12\]'):
        CheckSegSample(num_classes=11)(sample(seg))


def test_size_mismatch():
    with pytest.raises(ValueError, match='labels/a.png: label map is 8x6'):
        CheckSegSample(num_classes=11)(sample(np.zeros((6, 8), np.uint8)))
    # a test pipeline resizes the image before loading the labels: they
    # match the image as loaded (ori_shape)
    resized = dict(sample(np.zeros((8, 8), np.uint8), img_shape=(16, 16)),
                   ori_shape=(8, 8))
    assert CheckSegSample(num_classes=11)(resized) is resized
    resized['gt_seg_map'] = np.zeros((6, 8), np.uint8)
    with pytest.raises(ValueError, match='label map is 8x6'):
        CheckSegSample(num_classes=11)(resized)


def test_missing_label_file(tmp_path):
    from spikeformer_mm.datasets.digits import build_dataset, verify_dataset
    from spikeformer_mm.datasets.segmentation import DigitsSegmentation
    root = tmp_path / 'seg'
    canvas = dict(num_train=2, num_val=2)
    build_dataset(str(root), 'segmentation', **canvas)
    label = root / 'ann_dir' / 'val' / '00001.png'
    label.unlink()
    # the manifest check rebuilds a damaged copy made with the same
    # settings: the damage, not a change of settings, is the reason...
    reason = verify_dataset(str(root), 'segmentation', **canvas)
    assert '00001.png' in reason and 'other parameters' not in reason
    ds = DigitsSegmentation(str(root), split='val', pipeline=[],
                            lazy_init=True, canvas=canvas)
    assert label.exists() and verify_dataset(
        str(root), 'segmentation', **canvas) is None
    # ...while a dataset whose label file is missing says which
    label.unlink()
    with pytest.raises(FileNotFoundError, match='00001.png'):
        ds.full_init()
