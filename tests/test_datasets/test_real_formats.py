"""The full recipes' 15M T=1 configs, run through ``tools/train.py`` on tiny
datasets in the real ImageNet / COCO / ADE20K layouts (tests/helpers/real_formats.py):
two training iterations and a validation with the toolbox's own metric.
Only data roots, batch sizes, loader workers and iteration counts are
overridden. The dense configs initialise their backbone from the
classification run's checkpoint at the path they name, as a user would."""
import os
import os.path as osp
import shutil

import pytest

from helpers import ROOT, run_py
from helpers.real_formats import write_ade20k, write_coco, write_imagenet

pytestmark = pytest.mark.e2e
CLS = 'configs/classification/metaspikeformer-15m_8xb64_in1k.py'
DET = 'configs/detection/mask-rcnn_metaspikeformer-15m_fpn_1x_coco-t1.py'
SEG = 'configs/segmentation/fpn_metaspikeformer-15m_4xb4-160k_ade20k-512x512-t1.py'
# where the dense configs expect the ImageNet classifier (relative to cwd)
PRETRAINED = 'work_dirs/metaspikeformer-15m_8xb64_in1k/epoch_200.pth'


def loaders(*names, batch=2):
    out = []
    for n in names:
        out += [f'{n}_dataloader.batch_size={batch}',
                f'{n}_dataloader.num_workers=0',
                f'{n}_dataloader.persistent_workers=False']
    return out


def train(cwd, config, *opts, check=True):
    """tools/train.py from ``cwd`` (so the configs' relative work_dirs/ and
    checkpoints/ paths land there)."""
    return run_py(osp.join(ROOT, 'tools', 'train.py'), osp.join(ROOT, config),
                  '--cfg-options', *opts, 'default_hooks.logger.interval=1',
                  'randomness.seed=0',  # the same run each time
                  cwd=str(cwd), check=check)


def log_of(cwd, config):
    stem = osp.splitext(osp.basename(config))[0]
    logs = sorted(glob_logs(osp.join(cwd, 'work_dirs', stem)))
    return open(logs[-1]).read()


def glob_logs(d):
    for sub in os.listdir(d):
        p = osp.join(d, sub, f'{sub}.log')
        if osp.isfile(p):
            yield p


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp('real')


@pytest.fixture(scope='module')
def imagenet_run(workspace):
    root = write_imagenet(str(workspace / 'imagenet'))
    opts = [f'{n}_dataloader.dataset.data_root={root}'
            for n in ('train', 'val', 'test')]
    opts += loaders('train', 'val', 'test') + ['train_cfg.max_epochs=1']
    train(workspace, CLS, *opts)
    return workspace


def test_imagenet_layout_trains_and_validates(imagenet_run):
    log = log_of(imagenet_run, CLS)
    assert 'Epoch(train) [1][2/2]' in log
    assert 'accuracy/top1' in log and 'accuracy/top5' in log
    assert osp.isfile(osp.join(imagenet_run, 'work_dirs',
                               'metaspikeformer-15m_8xb64_in1k',
                               'epoch_1.pth'))


def place_pretrained(workspace):
    """The classifier the dense configs name, as the user would have it."""
    dst = osp.join(workspace, PRETRAINED)
    os.makedirs(osp.dirname(dst), exist_ok=True)
    shutil.copy(osp.join(osp.dirname(dst), 'epoch_1.pth'), dst)
    return dst


def test_coco_layout_trains_and_validates(imagenet_run):
    ws = imagenet_run
    root = write_coco(str(ws / 'coco')) + '/'
    opts = [f'{n}_dataloader.dataset.data_root={root}'
            for n in ('train', 'val', 'test')]
    opts += [f'{n}_evaluator.ann_file={root}annotations/'
             'instances_val2017.json' for n in ('val', 'test')]
    opts += loaders('train', 'val', 'test', batch=1)
    # after two iterations every class scores about 1/81, under the default
    # 0.05 threshold: keep all detections so that CocoMetric has some to
    # score (with none, mmdet reports an empty result and no metric)
    opts += ['train_cfg.max_epochs=1', 'model.test_cfg.rcnn.score_thr=0.0']
    # without the pretrained backbone: an error naming the file and the
    # command that makes it
    r = train(ws, DET, *opts, check=False)
    assert r.returncode != 0
    assert PRETRAINED in r.stderr
    assert f'python tools/train.py {CLS}' in r.stderr
    place_pretrained(ws)
    train(ws, DET, *opts)
    log = log_of(ws, DET)
    assert f'load from {PRETRAINED}' in log
    assert 'Epoch(train) [1][2/2]' in log
    assert 'coco/bbox_mAP' in log and 'coco/segm_mAP' in log


def test_ade20k_layout_trains_and_validates(imagenet_run):
    ws = imagenet_run
    if not osp.isfile(osp.join(ws, PRETRAINED)):
        place_pretrained(ws)
    root = write_ade20k(str(ws / 'ade'))
    opts = [f'{n}_dataloader.dataset.data_root={root}'
            for n in ('train', 'val', 'test')]
    opts += loaders('train', batch=2) + loaders('val', 'test', batch=1)
    opts += ['train_cfg.max_iters=2', 'train_cfg.val_interval=2']
    train(ws, SEG, *opts)
    log = log_of(ws, SEG)
    assert f'load from {PRETRAINED}' in log
    assert 'Iter(train) [2/2]' in log
    assert 'mIoU' in log
