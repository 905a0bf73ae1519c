"""Every shipped config loads, builds its model and runs one forward pass on
a small input (the full recipes, not only the demos): a config that breaks
on its first batch is caught here, in seconds, without data."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from conftest import ROOT

CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py')))
# A stand-in for the distillation teacher (CAFormer-B36, whose weights a
# user fetches by hand): a small mmpretrain classifier with 1000 classes.
SMALL_TEACHER = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=512))


def test_every_config_is_listed():
    tasks = {p.split(osp.sep)[1] for p in CONFIGS}
    assert tasks == {'classification', 'detection', 'segmentation'}
    assert len(CONFIGS) >= 20


def build(cfg):
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model = MODELS.build(cfg.model)
    return model.eval()


def det_sample(h, w):
    from mmdet.structures import DetDataSample
    s = DetDataSample()
    s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w),
                        batch_input_shape=(h, w), pad_shape=(h, w),
                        scale_factor=(1.0, 1.0)))
    return s


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(osp.join(ROOT, path))
    task = path.split(osp.sep)[1]
    T = cfg.model.backbone.T
    assert cfg.model.backbone.type == 'spikeformer_mm.MetaSpikeFormer'
    if cfg.model.get('teacher') is not None:
        # the teacher's weights are left out: the error names the file and
        # how to get it, then the student is checked with a stand-in teacher
        with pytest.raises(FileNotFoundError) as e:
            build(cfg)
        assert cfg.model.teacher.checkpoint in str(e.value)
        assert 'huggingface-cli download' in str(e.value)
        cfg.model.teacher = SMALL_TEACHER
    model = build(cfg)
    # the model is built from the config as written: its neuron count and
    # T are those of the recipe
    assert model.backbone.T == T
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        if task == 'classification':
            data = model.data_preprocessor(
                dict(inputs=[x[0].to(torch.uint8)]), False)
            logits = model(data['inputs'], mode='tensor')
            assert logits.shape == (1, cfg.model.head.num_classes)
            assert torch.isfinite(logits).all()
            if cfg.model.get('teacher') is not None:
                from mmpretrain.structures import DataSample
                model.train()
                losses = model(data['inputs'],
                               [DataSample().set_gt_label(3)], mode='loss')
                assert {'loss', 'loss_kd'} <= set(losses), losses.keys()
        elif task == 'detection':
            data = model.data_preprocessor(
                dict(inputs=[x[0].to(torch.uint8)],
                     data_samples=[det_sample(64, 64)]), False)
            feats = model.extract_feat(data['inputs'])
            assert len(feats) == 5  # FPN levels
            assert [f.shape[-1] for f in feats] == [16, 8, 4, 4, 2]
            out = model(data['inputs'], data['data_samples'],
                        mode='predict')
            assert len(out) == 1 and 'pred_instances' in out[0]
        else:
            data = model.data_preprocessor(
                dict(inputs=[x[0].to(torch.uint8)]), False)
            logits = model(data['inputs'], mode='tensor')
            assert logits.shape[:2] == (1, cfg.model.decode_head.num_classes)
            assert torch.isfinite(logits).all()
