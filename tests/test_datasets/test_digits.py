import json
import os

import numpy as np
import pytest
from PIL import Image

from spikeformer_mm.datasets.digits import (build_dataset, dataset_digest,
                                            ensure_dataset, load_digits_split,
                                            verify_dataset)


def test_split_is_fixed_and_disjoint():
    s = load_digits_split()
    assert len(s['train'][0]) == 1437 and len(s['val'][0]) == 360
    # sample i is in val iff i % 5 == 0: the first val image is sample 0
    from sklearn.datasets import load_digits
    d = load_digits()
    assert np.array_equal(s['val'][1], d.target[::5])


@pytest.fixture(scope='module')
def cls_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('d') / 'cls')
    ensure_dataset(root, 'classification', logger=lambda m: None, size=16)
    return root


def test_classification_layout(cls_root):
    lines = open(os.path.join(cls_root, 'meta', 'val.txt')).read().split('\n')
    assert len([line for line in lines if line]) == 360
    rel, label = lines[0].split()
    img = Image.open(os.path.join(cls_root, 'images', rel))
    assert img.size == (16, 16) and 0 <= int(label) <= 9
    assert verify_dataset(cls_root, 'classification', size=16) is None
    # other parameters: not the same dataset
    assert 'other parameters' in verify_dataset(cls_root, 'classification',
                                                size=32)


def test_corrupt_or_partial_copy_is_rebuilt(cls_root, tmp_path):
    import shutil
    root = str(tmp_path / 'cls')
    shutil.copytree(cls_root, root)
    victim = os.path.join(root, 'images', 'train', '0003.png')
    with open(victim, 'wb') as f:
        f.write(b'garbage')
    assert 'corrupt' in verify_dataset(root, 'classification', size=16)
    msgs = []
    ensure_dataset(root, 'classification', logger=msgs.append, size=16)
    assert 'rebuilding' in msgs[0] and '0003.png' in msgs[0]
    assert verify_dataset(root, 'classification', size=16) is None
    os.remove(os.path.join(root, 'MANIFEST.json'))  # an interrupted build
    assert 'missing' in verify_dataset(root, 'classification', size=16)


def test_dataset_digest_is_one_hash_of_the_files_bytes(cls_root, tmp_path):
    """Two builds with the same settings have the same digest (the data
    are a function of the settings); a copy with one image rewritten has
    another once rebuilt; a folder without our manifest has none."""
    import shutil
    root = str(tmp_path / 'again')
    build_dataset(root, 'classification', size=16)
    assert dataset_digest(root) == dataset_digest(cls_root)
    assert len(dataset_digest(root)) == 64
    manifest = json.load(open(os.path.join(root, 'MANIFEST.json')))
    manifest['files']['images/train/0003.png'] = '0' * 64
    with open(os.path.join(root, 'MANIFEST.json'), 'w') as f:
        json.dump(manifest, f)
    assert dataset_digest(root) != dataset_digest(cls_root)
    other = tmp_path / 'other'
    shutil.copytree(cls_root, other)
    (other / 'MANIFEST.json').write_text('{"not": "ours"}')
    assert dataset_digest(str(other)) is None
    assert dataset_digest(str(tmp_path / 'absent')) is None


def test_detection_annotations(tmp_path):
    root = str(tmp_path / 'det')
    build_dataset(root, 'detection', num_train=6, num_val=3)
    ann = json.load(open(os.path.join(root, 'annotations', 'val.json')))
    assert len(ann['images']) == 3 and ann['annotations']
    from pycocotools import mask as mu
    for a in ann['annotations']:
        m = mu.decode(dict(a['segmentation'], counts=a['segmentation'][
            'counts'].encode()))
        ys, xs = np.nonzero(m)
        x, y, w, h = a['bbox']
        assert (xs.min(), ys.min()) == (x, y)
        assert (xs.max() + 1, ys.max() + 1) == (x + w, y + h)
        assert 1 <= a['category_id'] <= 10 and a['area'] == m.sum()
    # deterministic
    root2 = str(tmp_path / 'det2')
    build_dataset(root2, 'detection', num_train=6, num_val=3)
    assert json.load(open(os.path.join(root2, 'annotations', 'val.json'))) \
        == ann


def test_segmentation_labels(tmp_path):
    root = str(tmp_path / 'seg')
    build_dataset(root, 'segmentation', num_train=4, num_val=2)
    lab = np.asarray(Image.open(os.path.join(root, 'ann_dir', 'val',
                                             '00000.png')))
    img = np.asarray(Image.open(os.path.join(root, 'img_dir', 'val',
                                             '00000.png')))
    assert lab.shape == img.shape == (64, 64)
    assert lab.max() <= 10 and (lab > 0).any()
    # labels cover the strokes (and more: the dilated body)
    assert (lab[img > 96] > 0).all()
    assert (lab > 0).sum() > (img > 96).sum()


def test_copy_made_with_other_defaults_is_stale(cls_root, tmp_path):
    """The manifest records every setting, defaults included: a copy made
    by a release with other defaults is rebuilt, not silently reused."""
    import shutil
    root = str(tmp_path / 'cls')
    shutil.copytree(cls_root, root)
    mpath = os.path.join(root, 'MANIFEST.json')
    manifest = json.load(open(mpath))
    assert manifest['params']['size'] == 16
    del manifest['params']['size']  # as an older release wrote it
    json.dump(manifest, open(mpath, 'w'))
    assert 'other parameters' in verify_dataset(root, 'classification',
                                                size=16)


def test_canvas_settings_of_dataset_configs(tmp_path):
    from spikeformer_mm.datasets import DigitsSegmentation
    from spikeformer_mm.datasets.digits import check_canvas
    root = str(tmp_path / 'seg')
    ds = DigitsSegmentation(root, split='val', lazy_init=True,
                            canvas=dict(size=40, scale=(16, 20),
                                        num_train=2, num_val=3))
    assert ds.data_root == root
    img = Image.open(os.path.join(root, 'img_dir', 'val', '00002.png'))
    assert img.size == (40, 40)
    params = json.load(open(os.path.join(root, 'MANIFEST.json')))['params']
    assert params['scale'] == [16, 20] and params['digits'] == [1, 2]
    with pytest.raises(KeyError, match='colour'):
        check_canvas('segmentation', dict(colour=1))
    with pytest.raises(ValueError, match='does not fit'):
        check_canvas('segmentation', dict(size=32, scale=(20, 40)))
    # against the task's own default size (64 for segmentation)
    with pytest.raises(ValueError, match='does not fit'):
        check_canvas('segmentation', dict(scale=(50, 70)))
    assert check_canvas('detection', dict(scale=(50, 70))) == \
        dict(scale=(50, 70))
    with pytest.raises(ValueError, match='digits'):
        check_canvas('detection', dict(digits=(3, 1)))
    with pytest.raises(TypeError, match='canvas'):
        check_canvas('detection', [64])
