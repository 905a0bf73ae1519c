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
