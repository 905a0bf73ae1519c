"""The helpers every tool shares: model building with strict, safe loading,
atomic writes, one-line errors, pictures scaled for reading."""
import os
import stat

import numpy as np
import pytest
import torch

from spikeformer_mm.apis import init_model
from spikeformer_mm.checkpoint import CheckpointMismatchError, load_weights
from spikeformer_mm.fileio import atomic_path, sha256_file, write_json

from helpers import run_py

CLS = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
SEG = 'configs/segmentation/fpn_metaspikeformer-demo_digits-64x64-t2.py'


@pytest.fixture(scope='module')
def classifier():
    torch.manual_seed(0)
    return init_model(CLS)


def test_init_model_loads_strictly(classifier, tmp_path):
    sd = classifier.state_dict()
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=sd, meta=dict(
        dataset_meta=dict(classes=list('abcdefghij')))), good)
    m = init_model(CLS, str(good), deploy=True)
    assert not m.training and m.backbone.deploy == 'dense'
    assert m.dataset_meta['classes'][0] == 'a' and m.cfg.model.type
    # another task's checkpoint: keys named, nothing evaluated
    seg = init_model(SEG)
    other = tmp_path / 'seg.pth'
    torch.save(dict(state_dict=seg.state_dict()), other)
    with pytest.raises(CheckpointMismatchError,
                       match=r"53 tensors are not in it \(decode_head"):
        init_model(CLS, str(other))
    # another arch: the shapes named
    wide = init_model(CLS, cfg_options={
        'model.backbone.arch.embed_dims': [16, 32, 64, 96]})
    torch.save(dict(state_dict=wide.state_dict()), other)
    with pytest.raises(CheckpointMismatchError, match='other shapes'):
        init_model(CLS, str(other))
    # blocks missing: refused with the keys, loaded with strict=False
    part = tmp_path / 'part.pth'
    torch.save(dict(state_dict={k: v for k, v in sd.items()
                                if not k.startswith('backbone.block4')}),
               part)
    with pytest.raises(CheckpointMismatchError,
                       match=r'tensors are missing \(backbone\.block4'):
        load_weights(classifier, str(part))
    load_weights(classifier, str(part), strict=False)
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        init_model(CLS, str(tmp_path / 'absent.pth'))


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_test_tool_refuses_a_mismatched_checkpoint(tmp_path):
    seg = init_model(SEG)
    other = tmp_path / 'seg.pth'
    torch.save(dict(state_dict=seg.state_dict()), other)
    r = run_py('tools/test.py', CLS, str(other), '--work-dir',
               str(tmp_path / 'wd'), check=False)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {other} does not fit the model'), last


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / 'sub' / 'report.json'
    write_json(str(target), {'a': 1})
    before = sha256_file(str(target))
    with pytest.raises(RuntimeError):
        with atomic_path(str(target)) as tmp:
            with open(tmp, 'w') as f:
                f.write('{"half": ')
            raise RuntimeError('disk full')
    assert sha256_file(str(target)) == before
    assert os.listdir(target.parent) == ['report.json']  # no temp left
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & 0o044, oct(mode)  # umask permissions, not mkstemp's 0600


def test_pictures_of_small_images_are_scaled_up():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData, PixelData
    from mmseg.structures import SegDataSample

    from spikeformer_mm.visualization import (display_scale, upscale,
                                              upscale_det_sample,
                                              upscale_seg_sample)
    assert display_scale((96, 96)) == 6 and display_scale((64, 80)) == 8
    assert display_scale((600, 800)) == 1
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = upscale(img, 3)
    assert big.shape == (6, 6, 3) and (big[:3, :3] == img[0, 0]).all()
    det = DetDataSample()
    det.pred_instances = InstanceData(
        bboxes=torch.tensor([[1., 2., 3., 4.]]), scores=torch.ones(1),
        labels=torch.zeros(1, dtype=torch.long),
        masks=torch.eye(4, dtype=torch.bool)[None])
    up = upscale_det_sample(det, 2)
    assert up.pred_instances.bboxes.tolist() == [[2., 4., 6., 8.]]
    assert up.pred_instances.masks.shape == (1, 8, 8)
    assert det.pred_instances.bboxes[0, 0] == 1  # the original is kept
    seg = SegDataSample()
    seg.pred_sem_seg = PixelData(data=torch.tensor([[[0, 1], [2, 3]]]))
    assert upscale_seg_sample(seg, 4).pred_sem_seg.data.shape == (1, 8, 8)


def test_the_T_override_is_one_rule():
    """``--T`` of the tools: the backbone's T in cfg-options, refused when
    it is not an integer >= 1 (the export and binary tools share it)."""
    from spikeformer_mm.apis.config import with_T
    assert with_T({'a': 1}, 2) == {'a': 1, 'model.backbone.T': 2}
    assert with_T(None, None) == {}
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=r'--T must be an integer >= 1'):
            with_T(None, bad)


def test_write_json_without_replace_keeps_a_file_already_there(tmp_path):
    """``replace=False`` (run records): a file that is at the path when the
    write completes is kept, the new content is not left beside it, and a
    free path is written whole."""
    import json
    p = tmp_path / 'record.json'
    p.write_text('{"mine": 1}')
    with pytest.raises(FileExistsError):
        write_json(str(p), {'new': 2}, replace=False)
    assert p.read_text() == '{"mine": 1}'
    assert sorted(x.name for x in tmp_path.iterdir()) == ['record.json']
    q = tmp_path / 'new.json'
    write_json(str(q), {'new': 2}, replace=False)
    assert json.loads(q.read_text()) == {'new': 2}
