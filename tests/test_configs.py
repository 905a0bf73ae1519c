"""Every shipped config loads, builds its model and runs one forward pass on
a small input (the full recipes, not only the demos): a config that breaks
on its first batch is caught here, in seconds, without data."""
import gzip
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from helpers import ROOT

sys.path.insert(0, osp.join(ROOT, 'tests', 'data'))
from make_model_snapshot import (SMALL_TEACHER,  # noqa: E402
                                 config_paths, state_dict_shapes)

ALL_CONFIGS = config_paths()  # configs/<task>/ and the projects'
CONFIGS = [p for p in ALL_CONFIGS if p.startswith('configs')]
# state_dict keys and shapes of every config's model, made by the code
# before the layout change (tests/data/make_model_snapshot.py)
with gzip.open(osp.join(ROOT, 'tests', 'data', 'model_snapshot.json.gz'),
               'rt') as _f:
    SNAPSHOT = json.load(_f)
def test_every_config_is_listed():
    tasks = {p.split(osp.sep)[1] for p in CONFIGS}
    assert tasks == {'classification', 'detection', 'segmentation'}
    assert len(CONFIGS) >= 20
    assert not any('_base_' in p for p in ALL_CONFIGS)
    # every config has its reference model, and nothing more
    assert set(SNAPSHOT) == set(ALL_CONFIGS)


def check_reference_model(path, got):
    """The same state_dict keys and shapes as the model the config built
    before the layout change (the committed snapshot)."""
    want = SNAPSHOT[path]
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    shapes = [k for k in want if k in got and got[k] != want[k]]
    assert not (missing or extra or shapes), (
        f'{path}: missing {missing[:5]}, extra {extra[:5]}, other shapes '
        f'{shapes[:5]}')


@pytest.mark.parametrize('path', [p for p in ALL_CONFIGS
                                  if p not in CONFIGS])
def test_project_config_builds_the_reference_model(path):
    """The projects' configs (those of configs/ are checked by
    test_config_builds_and_runs)."""
    check_reference_model(path, state_dict_shapes(path))


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_config_names_the_safety_policy(path):
    """configs/_base_/safety.py reaches every config: safe loading and
    atomic writes imported when it is read, the NaN guard among its
    hooks."""
    cfg = Config.fromfile(osp.join(ROOT, path), import_custom_modules=False)
    assert 'spikeformer_mm.engine.safe_io' in cfg.custom_imports.imports
    assert not cfg.custom_imports.get('allow_failed_imports')
    from spikeformer_mm.apis.config import SAFETY_HOOKS
    hooks = [h['type'] for h in cfg.get('custom_hooks') or []]
    assert set(SAFETY_HOOKS) <= set(hooks), hooks


def test_tap_channel_tables_are_the_backbones():
    """The channels written once per size in the configs
    (configs/_base_/models/) are those the backbone builds."""
    from spikeformer_mm.models import MetaSpikeFormer
    table = Config.fromfile(osp.join(
        ROOT, 'configs', '_base_', 'models', 'metaspikeformer.py'))
    assert set(table.tap_channels) == {
        k.upper() for k in MetaSpikeFormer.arch_settings}
    for arch, chans in table.tap_channels.items():
        assert list(MetaSpikeFormer(arch=arch).tap_channels) == chans, arch
    demo = Config.fromfile(osp.join(
        ROOT, 'configs', '_base_', 'models', 'metaspikeformer-demo.py'))
    bb = dict(demo.backbone)
    bb.pop('type')
    assert list(MetaSpikeFormer(**bb).tap_channels) == demo.tap_channels


def test_v3_tables_are_the_backbones_and_neurons():
    """E-SpikeFormer's tap channels per released size and its heads'
    neurons, as the configs write them, are the backbones' and V3's."""
    import torch

    from spikeformer_mm.models import ESpikeFormer, ESpikeFormerLarge
    from spikeformer_mm.models.backbones import e_spikeformer as v3
    table = Config.fromfile(osp.join(
        ROOT, 'configs', '_base_', 'models', 'e-spikeformer.py'))
    sizes = {k.upper(): ESpikeFormer for k in ESpikeFormer.arch_settings}
    sizes.update({k.upper(): ESpikeFormerLarge
                  for k in ESpikeFormerLarge.arch_settings})
    assert set(table.v3_tap_channels) == set(sizes)
    for arch, chans in table.v3_tap_channels.items():
        with torch.device('meta'):
            model = sizes[arch](arch=arch)
        assert list(model.tap_channels) == chans, arch
    assert table.v3_base_head_neuron == v3.V3_BASE_HEAD_NEURON
    assert table.v3_large_head_neuron == v3.V3_LARGE_HEAD_NEURON


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
    assert cfg.model.backbone.type in (
        'spikeformer_mm.MetaSpikeFormer', 'spikeformer_mm.ESpikeFormer',
        'spikeformer_mm.ESpikeFormerLarge')
    if cfg.model.get('teacher') is not None:
        # the teacher's weights are left out: the error names the file and
        # how to get it, then the student is checked with a stand-in teacher
        with pytest.raises(FileNotFoundError) as e:
            build(cfg)
        assert cfg.model.teacher.checkpoint in str(e.value)
        assert 'huggingface-cli download' in str(e.value)
        cfg.model.teacher = SMALL_TEACHER
    model = build(cfg)
    check_reference_model(path, {k: list(v.shape)
                                 for k, v in model.state_dict().items()})
    # the model is built from the config as written: its neuron count and
    # T are those of the recipe
    assert model.backbone.T == T
    torch.manual_seed(0)
    pre = cfg.model.get('data_preprocessor') or {}
    # event frames (Gen1): ON/OFF counts of T bins as 2T channels
    channels = 2 * pre['n_time_bins'] if pre.get('type') == \
        'spikeformer_mm.EventDetDataPreprocessor' else 3
    x = torch.rand(1, channels, 64, 64) * 255
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
            assert len(feats) == 5  # FPN levels, at the anchors' strides
            strides = cfg.model.rpn_head.anchor_generator.strides
            assert [f.shape[-1] for f in feats] == [max(1, 64 // s)
                                                    for s in strides]
            out = model(data['inputs'], data['data_samples'],
                        mode='predict')
            assert len(out) == 1 and 'pred_instances' in out[0]
        else:
            data = model.data_preprocessor(
                dict(inputs=[x[0].to(torch.uint8)]), False)
            logits = model(data['inputs'], mode='tensor')
            assert logits.shape[:2] == (1, cfg.model.decode_head.num_classes)
            assert torch.isfinite(logits).all()


@pytest.mark.parametrize('path', [p for p in CONFIGS
                                  if p.split(osp.sep)[1] == 'segmentation'])
def test_segmentation_configs_check_their_labels(path):
    """Labels outside the classes are refused, not scored silently (mmseg's
    IoUMetric drops them from its histograms)."""
    cfg = Config.fromfile(osp.join(ROOT, path), import_custom_modules=False)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        steps = [t['type'] for t in cfg[key].dataset.pipeline]
        assert 'spikeformer_mm.CheckSegSample' in steps, (key, steps)
        assert steps.index('spikeformer_mm.CheckSegSample') == \
            steps.index('LoadAnnotations') + 1


# the classifiers' I-LIF twins (the Gen1 one changes its window too: below)
ILIF_CONFIGS = [p for p in ALL_CONFIGS if '-ilif-' in p and 'gen1' not in p]


def test_gen1_ilif_config_changes_the_neuron_and_the_window():
    """The Gen1 I-LIF config: its twin's model and recipe with every
    backbone neuron an I-LIF of D=4 at T=1, fed one bin of the last 50 ms
    (the frames' T and the preprocessor's follow)."""
    from spikeformer_mm.models.neurons import MultiStepILIF, is_neuron
    path = ('configs/detection/'
            'faster-rcnn_metaspikeformer-15m_fpn_8xb8-gen1-t1-ilif-d4.py')
    twin = Config.fromfile(osp.join(ROOT, 'configs/detection/faster-rcnn_'
                                    'metaspikeformer-15m_fpn_8xb8-gen1-t5.py'))
    cfg = Config.fromfile(osp.join(ROOT, path))
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'custom_hooks', 'val_evaluator'):
        assert cfg.get(key) == twin.get(key), key
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        window = cfg[key].dataset.pipeline[0]
        assert (window.window_us, window.n_time_bins) == (50_000, 1)
        assert cfg[key].dataset.pipeline[1:] == \
            twin[key].dataset.pipeline[1:]
    assert cfg.model.data_preprocessor.n_time_bins == 1
    a, b = cfg.model.to_dict(), twin.model.to_dict()
    for m in (a, b):
        m['backbone'].pop('neuron_cfg', None)
        m['backbone'].pop('T')
        m['data_preprocessor'].pop('n_time_bins')
    assert a == b
    model = build(cfg)
    neurons = [n for n in model.backbone.modules() if is_neuron(n)]
    assert model.backbone.T == 1 and neurons and all(
        isinstance(n, MultiStepILIF) and n.max_spike_count == 4
        for n in neurons)


@pytest.mark.parametrize('path', ILIF_CONFIGS)
def test_ilif_config_changes_only_the_neuron(path):
    """An I-LIF config builds its binary twin's model (the config it
    inherits) with every neuron an I-LIF of D=4, T=1 and the paper's
    attention scale 0.125 (what counts need; the demos' twins have 1.0),
    and keeps the rest of the twin's recipe (data, schedule, hooks)."""
    from spikeformer_mm.models.neurons import MultiStepILIF, is_neuron
    import ast
    cfg = Config.fromfile(osp.join(ROOT, path))
    with open(osp.join(ROOT, path)) as f:
        bases = next(ast.literal_eval(n.value) for n in ast.parse(f.read()).body
                     if isinstance(n, ast.Assign) and
                     n.targets[0].id == '_base_')
    twin = Config.fromfile(osp.join(ROOT, osp.dirname(path), bases[0]))
    assert len(ILIF_CONFIGS) == 4
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'custom_hooks'):
        assert cfg.get(key) == twin.get(key), key
    a, b = cfg.model.to_dict(), twin.model.to_dict()
    for m in (a, b):
        for part in ('backbone', 'head'):
            m[part].pop('neuron_cfg', None)
        m['backbone'].pop('T')
        m['backbone'].pop('attn_scale', None)
    assert a == b
    assert cfg.model.backbone.T == 1
    assert cfg.model.backbone.get('attn_scale', 0.125) == 0.125
    model = build(cfg) if path in CONFIGS else None
    if model is not None:
        neurons = [n for n in model.modules() if is_neuron(n)]
        assert neurons and all(isinstance(n, MultiStepILIF) and
                               n.max_spike_count == 4 for n in neurons)


def _doc_example(tmp_path):
    """docs/new_task.md's inheriting config, written where its relative
    ``_base_`` resolves."""
    import re
    text = open(osp.join(ROOT, 'docs', 'new_task.md')).read()
    block = next(b for b in re.findall(r'```python\n(.*?)```', text, re.S)
                 if b.startswith('# projects/my_task/configs/'))
    d = tmp_path / 'projects' / 'my_task' / 'configs'
    d.mkdir(parents=True)
    path = d / 'example.py'
    path.write_text(block.replace('../../../configs/',
                                  osp.join(ROOT, 'configs') + '/'))
    return str(path)


def test_the_documented_child_config_keeps_the_safety_policy(tmp_path):
    """The example a user copies from docs/new_task.md keeps safe loading
    and the NaN guard (it once replaced custom_imports and dropped them)."""
    from spikeformer_mm.apis.config import SAFETY_HOOKS, SAFETY_IMPORT
    cfg = Config.fromfile(_doc_example(tmp_path),
                          import_custom_modules=False)
    assert SAFETY_IMPORT in cfg.custom_imports.imports
    assert 'projects.my_task.my_task' in cfg.custom_imports.imports
    assert set(SAFETY_HOOKS) <= {h['type'] for h in cfg.custom_hooks}


def test_the_tools_put_back_a_dropped_safety_policy(tmp_path, monkeypatch):
    """A child config that replaces custom_imports and custom_hooks loses
    the policy in mm; load_config (every tool's) puts it back and warns.
    Mutation caught: load_config without keep_safety_policy."""
    from spikeformer_mm.apis import config
    from spikeformer_mm.apis.config import (SAFETY_HOOKS, SAFETY_IMPORT,
                                            load_config)
    said = []
    monkeypatch.setattr(config, '_warn', said.append)
    child = tmp_path / 'child.py'
    child.write_text(
        f"_base_ = ['{ROOT}/configs/classification/"
        f"metaspikeformer-demo_1xb32_digits-t2.py']\n"
        "custom_imports = dict(imports=['json'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='EMAHook')]\n")
    cfg = load_config(str(child))
    assert cfg.custom_imports.imports == ['json', SAFETY_IMPORT]
    assert [h['type'] for h in cfg.custom_hooks] == ['EMAHook',
                                                     *SAFETY_HOOKS]
    text = '\n'.join(said)
    assert f'custom_imports lacks {SAFETY_IMPORT!r}' in text and \
        '*_base_.custom_imports.imports' in text, text
    assert load_config(osp.join(ROOT, CONFIGS[0])) and \
        len(said) == 1 + len(SAFETY_HOOKS), \
        'a config that keeps the policy is left as it is, no warning'
    other = tmp_path / 'not_ours.py'  # a model of no type of ours
    other.write_text("model = dict(type='ImageClassifier', "
                     "backbone=dict(type='ResNet', depth=18))\n"
                     "custom_imports = dict(imports=['json'])\n")
    assert load_config(str(other)).custom_imports.imports == ['json']
    assert len(said) == 1 + len(SAFETY_HOOKS)
