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
