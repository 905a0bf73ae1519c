"""A resumed run equals the uninterrupted one (ResumableRandomnessHook).

mmengine reseeds from the checkpoint's seed on ``--resume``, so every random
number after the resume (shuffling, augmentation, dropout) differed from the
uninterrupted run's: a reliability re-run measured a median parameter
difference of 0.16 against 1.32 between two seeds. These runs draw from
python's, numpy's and torch's random states in their data and model, and
validate after each checkpoint (validation draws too)."""
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner

import spikeformer_mm.engine.safe_io  # noqa: F401 (the configs' safe loading)

HOOK = dict(type='spikeformer_mm.ResumableRandomnessHook')


class Noisy(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, inputs, mode='loss', data_samples=None):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        y = self.fc(self.drop(x))
        if mode == 'loss':
            return dict(loss=(y ** 2).mean())
        return [dict(v=float(v)) for v in y.flatten()]


class RandomlyAugmented(torch.utils.data.Dataset):
    """Each sample is drawn anew from all three random states."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        a = random.random() + np.random.rand() + float(torch.rand(()))
        return dict(inputs=torch.full((4, ), 0.1 * i) + 0.1 * a)


class Mean(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return dict(mean=float(np.mean([r['v'] for r in results])))


def _runner(wd, hooks, by_epoch, length, resume_from=None):
    loader = dict(dataset=RandomlyAugmented(), batch_size=2, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=True),
                  collate_fn=dict(type='default_collate'))
    train_cfg = dict(by_epoch=True, max_epochs=length, val_interval=1) \
        if by_epoch else dict(by_epoch=False, max_iters=length,
                              val_interval=2)
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        model=Noisy(), work_dir=str(wd), train_dataloader=loader,
        val_dataloader=loader, val_evaluator=dict(type=Mean),
        val_cfg=dict(), train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05)),
        default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', interval=1 if by_epoch else 2,
            by_epoch=by_epoch)),
        custom_hooks=hooks, randomness=dict(seed=3),
        resume=resume_from is not None, load_from=resume_from,
        default_scope='mmengine', log_level='WARNING')


def _resumed_minus_uninterrupted(tmp_path, hooks, by_epoch):
    """Max |difference| of the weights: a run of 3 epochs (6 iterations)
    against one stopped after 2 (4) and resumed from its checkpoint."""
    full, stop = (3, 2) if by_epoch else (6, 4)
    a = _runner(tmp_path / 'a', hooks, by_epoch, full)
    a.train()
    b = _runner(tmp_path / 'b', hooks, by_epoch, stop)
    b.train()
    ckpt = tmp_path / 'b' / (f'epoch_{stop}.pth' if by_epoch
                             else f'iter_{stop}.pth')
    c = _runner(tmp_path / 'b', hooks, by_epoch, full, resume_from=str(ckpt))
    c.train()
    return max(float((p - q).abs().max()) for p, q in zip(
        a.model.state_dict().values(), c.model.state_dict().values()))


@pytest.mark.parametrize('by_epoch', [True, False],
                         ids=['epoch-based', 'iteration-based'])
def test_a_resumed_run_equals_the_uninterrupted_one(tmp_path, by_epoch):
    """Bit-identical with the hook; without it (mmengine alone, the
    mutation) the same runs differ: this test can fail."""
    assert _resumed_minus_uninterrupted(tmp_path / 'hook', [HOOK],
                                        by_epoch) == 0
    assert _resumed_minus_uninterrupted(tmp_path / 'plain', [],
                                        by_epoch) > 0


def test_persistent_loader_processes_are_named_on_resume(tmp_path, capsys):
    """Loader processes that persist keep random states no checkpoint
    holds: a resumed run with them says its augmentations differ."""
    from spikeformer_mm.engine import ResumableRandomnessHook

    class Loop:
        dataloader = torch.utils.data.DataLoader(
            RandomlyAugmented(), num_workers=1, persistent_workers=True)

    class R:
        train_loop, _has_loaded = Loop(), True

    from mmengine.logging import MMLogger
    MMLogger.get_instance('resume_test', log_level='WARNING')
    ResumableRandomnessHook().before_train(R())
    assert 'persistent_workers=True' in capsys.readouterr().out
