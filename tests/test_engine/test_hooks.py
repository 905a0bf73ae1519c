import math

import pytest
import torch
import torch.nn as nn

from spikeformer_mm.engine import NaNGuardHook


class FakeRunner:

    def __init__(self):
        self.model = nn.Linear(2, 2)
        self.epoch, self.iter = 2, 41


def test_nan_guard_names_the_loss_and_where():
    hook = NaNGuardHook()
    runner = FakeRunner()
    ok = dict(loss=torch.tensor(1.0), loss_cls=torch.tensor(0.5))
    hook.after_train_iter(runner, 0, outputs=ok)  # fine: nothing happens
    bad = dict(loss=torch.tensor(math.nan), loss_cls=torch.tensor(0.5),
               loss_mask=torch.tensor(math.inf))
    runner.model.weight.data[0, 0] = math.nan
    with pytest.raises(RuntimeError) as e:
        hook.after_train_iter(runner, 0, outputs=bad)
    msg = str(e.value)
    assert 'epoch 3' in msg and 'iteration 42' in msg
    assert 'loss=nan' in msg and 'loss_mask=inf' in msg
    assert 'loss_cls' not in msg and "'weight'" in msg


def test_nan_guard_checks_the_weights_when_the_loss_is_finite():
    """A spiking network can go NaN in its weights (or BN statistics) while
    its loss stays finite: the guard stops the run, naming the tensors."""
    hook = NaNGuardHook()
    runner = FakeRunner()
    runner.model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ok = dict(loss=torch.tensor(1.0))
    hook.after_train_iter(runner, 0, outputs=ok)
    runner.model[1].running_var[0] = math.inf
    with pytest.raises(RuntimeError) as e:
        hook.after_train_iter(runner, 0, outputs=ok)
    assert 'non-finite weights at epoch 3, iteration 42, with a finite ' \
        'loss' in str(e.value) and "'1.running_var'" in str(e.value)


def test_no_non_finite_checkpoint_is_written(tmp_path):
    """A run whose weights go NaN with a finite loss (an unused parameter
    set to NaN by another hook) stops at that iteration: no checkpoint of
    those weights exists and last_checkpoint names none; a direct save of
    non-finite weights is refused before anything is written."""
    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))
            self.unused = nn.Parameter(torch.zeros(3))

        def forward(self, inputs, mode='loss'):
            x = torch.stack(inputs) if isinstance(inputs, list) else inputs
            return dict(loss=((self.w * x) ** 2).mean())

    class Poison(Hook):
        priority = 'LOWEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter == 4:  # the 5th iteration, in epoch 2
                runner.model.unused.data[1] = math.nan

    class Data(torch.utils.data.Dataset):

        def __len__(self):
            return 8

        def __getitem__(self, i):
            return dict(inputs=torch.ones(1))

    def runner(wd, hooks):
        return Runner(
            model=Toy(), work_dir=str(wd),
            train_dataloader=dict(dataset=Data(), batch_size=2,
                                  sampler=dict(type='DefaultSampler'),
                                  collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            train_cfg=dict(by_epoch=True, max_epochs=3),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                               interval=1)),
            custom_hooks=hooks, default_scope='mmengine')
    r = runner(tmp_path / 'a', [dict(type='spikeformer_mm.NaNGuardHook'),
                                Poison()])
    with pytest.raises(RuntimeError, match="with a finite loss.*'unused'"):
        r.train()
    wd = tmp_path / 'a'
    assert sorted(p.name for p in wd.glob('*.pth')) == ['epoch_1.pth']
    assert (wd / 'last_checkpoint').read_text().strip().endswith(
        'epoch_1.pth')
    assert torch.isfinite(torch.load(wd / 'epoch_1.pth', weights_only=False)[
        'state_dict']['unused']).all()
    # the last line of defence: a save of non-finite weights
    r = runner(tmp_path / 'b', [dict(type='spikeformer_mm.NaNGuardHook')])
    r.model.unused.data[0] = math.nan
    r.call_hook('before_run')
    with pytest.raises(RuntimeError, match='refusing to save a checkpoint'):
        r.save_checkpoint(str(tmp_path / 'b'), 'epoch_9.pth',
                          save_optimizer=False, save_param_scheduler=False)
    assert not list((tmp_path / 'b').glob('*.pth'))


def test_nan_guard_in_a_real_run(tmp_path):
    """A run whose loss turns NaN stops with the message, not training on."""
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Exploding(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))

        def forward(self, inputs, mode='loss'):
            x = torch.stack(inputs) if isinstance(inputs, list) else inputs
            return dict(loss=(self.w * x).sum() / (x.sum() - x.sum()))

    class Data(torch.utils.data.Dataset):

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return dict(inputs=torch.ones(1))

    runner = Runner(
        model=Exploding(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=Data(), batch_size=2,
                              sampler=dict(type='DefaultSampler'),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[dict(type='spikeformer_mm.NaNGuardHook')],
        default_scope='mmengine')
    with pytest.raises(RuntimeError, match='non-finite loss at epoch 1, '
                       'iteration 1'):
        runner.train()


@pytest.mark.e2e  # trains through the tools
def test_channels_last_training_run(tmp_path):
    """tools/train.py --channels-last --amp: the hook converts the model
    before the run (the checkpoint's conv weights are NHWC), training runs
    in bf16 autocast on the CPU, and the checkpoint loads into an ordinary
    NCHW model with the same values."""
    from helpers import run_py
    from spikeformer_mm.apis import init_model
    cls = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
    wd = tmp_path / 'wd'
    run_py('tools/train.py', cls, '--work-dir', str(wd), '--channels-last',
           '--amp', '--cfg-options', 'train_dataloader.dataset.indices=32',
           'train_dataloader.num_workers=0',
           'train_dataloader.persistent_workers=False',
           'train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
           timeout=600)
    ckpt = torch.load(wd / 'epoch_1.pth', map_location='cpu',
                      weights_only=False)['state_dict']
    w = ckpt['backbone.block3.0.mlp.fc1_conv.weight']
    conv = ckpt['backbone.ConvBlock1_1.0.conv1.weight']
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    assert w.dim() == 4
    model = init_model(cls, str(wd / 'epoch_1.pth'))
    got = model.state_dict()['backbone.ConvBlock1_1.0.conv1.weight']
    assert got.is_contiguous() and torch.equal(got, conv)


def test_non_finite_tensors_names_exactly_the_bad_ones():
    """The fused all-finite check: NaN/inf found in any dtype, named one by
    one; huge finite values (whose norm overflows) and empty or integer
    tensors are not flagged."""
    from spikeformer_mm.engine.hooks import non_finite_tensors
    sd = {'w': torch.randn(3, 4), 'h': torch.randn(5).bfloat16(),
          'empty': torch.zeros(0), 'count': torch.arange(3),
          'huge': torch.full((4, ), 3e38)}
    assert non_finite_tensors(sd) == []
    for bad in (float('nan'), float('inf'), -float('inf')):
        for k in ('w', 'h', 'huge'):
            x = dict(sd)
            x[k] = sd[k].clone()
            x[k].view(-1)[1] = bad
            assert non_finite_tensors(x) == [k]


def _seg_dataset(root, maps, classes=('a', 'b', 'c'), **kwargs):
    """An mmseg data set of ``maps`` (name -> label array) under ``root``."""
    import numpy as np
    from mmseg.datasets import BaseSegDataset
    from PIL import Image
    for d in ('img', 'ann'):
        (root / d).mkdir(parents=True, exist_ok=True)
    for name, seg in maps.items():
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(
            root / 'img' / f'{name}.png')
        Image.fromarray(np.asarray(seg, np.uint8)).save(
            root / 'ann' / f'{name}.png')
    return BaseSegDataset(data_root=str(root), img_suffix='.png',
                          seg_map_suffix='.png',
                          data_prefix=dict(img_path='img', seg_map_path='ann'),
                          metainfo=dict(classes=classes), **kwargs)


def test_seg_labels_outside_the_classes_are_named(tmp_path, capsys):
    """Whatever the pipeline (none here): a label map with a label past the
    classes is named at the start of validation; the ignore index, and
    labels in range, are not; reduce_zero_label is applied as mmseg's
    loader applies it. Mutation caught: the hook checking nothing."""
    import numpy as np
    from mmengine.dataset import ConcatDataset
    from mmengine.logging import MMLogger

    from spikeformer_mm.engine import SegLabelCheckHook
    MMLogger.get_instance('seg_label_test', log_level='WARNING')
    ok = np.array([[0, 1, 2, 255]] * 4)
    bad = np.array([[0, 1, 7, 255]] * 4)
    clean = _seg_dataset(tmp_path / 'clean', {'x': ok})
    dirty = _seg_dataset(tmp_path / 'dirty', {'x': ok, 'y': bad})

    class Runner:
        pass

    def check(dataset):
        r = Runner()
        r.val_loop = type('Loop', (), {'dataloader': type(
            'L', (), {'dataset': dataset})()})()
        SegLabelCheckHook().before_val(r)
        return capsys.readouterr().out

    assert 'SegLabelCheckHook' not in check(clean)
    said = check(ConcatDataset([clean, dirty]))  # through a wrapper
    assert 'labels [7] in 1 of the 2 label maps' in said, said
    assert str(tmp_path / 'dirty' / 'ann' / 'y.png') in said
    assert 'outside the 3 classes (0..2)' in said and 'CheckSegSample' in said
    # reduce_zero_label: 0 is ignored and 1..3 are classes 0..2
    shifted = _seg_dataset(tmp_path / 'shift', {'x': np.array([[0, 1, 3]])},
                           reduce_zero_label=True)
    assert 'SegLabelCheckHook' not in check(shifted)
