"""Safe loading and atomic writes for mmengine (spikeformer_mm.engine.safe_io,
which configs name through configs/_base_/safety.py): what torch >= 2.6 and
mmengine 0.10.7 break, and what importing the package alone leaves as is."""
import textwrap

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel, BaseModule
from mmengine.runner import Runner

from spikeformer_mm.engine import safe_io  # registers the loaders here


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(x)
        if mode == 'loss':
            y = torch.stack(labels) if isinstance(labels, list) else labels
            return {'loss': nn.functional.cross_entropy(out, y)}
        return out


class ToyData(torch.utils.data.Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(4, generator=g), labels=torch.tensor(i % 2))


def make_runner(work_dir, **kw):
    return Runner(
        model=ToyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=ToyData(), batch_size=4,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=kw.pop('max_epochs', 1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        default_scope='mmengine', **kw)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    wd = tmp_path_factory.mktemp('toy')
    r = make_runner(wd)
    r.train()
    return wd, r


def test_mmengine_checkpoint_needs_the_allow_list(trained):
    wd, _ = trained
    path = wd / 'epoch_1.pth'
    # what torch >= 2.6 does by default: refused...
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)
    # ...and what the compat loader does: weights_only=True + allow-list
    ck = safe_io.load_local(str(path), 'cpu')
    assert 'message_hub' in ck and 'optimizer' in ck


def test_resume_and_load_from(trained, tmp_path):
    wd, first = trained
    r = make_runner(tmp_path / 'resume', max_epochs=2,
                    resume=True, load_from=str(wd / 'epoch_1.pth'))
    r.train()
    assert r.epoch == 2 and r.iter == 4  # continued from epoch 1 (2 iters)
    r2 = make_runner(tmp_path / 'load', load_from=str(wd / 'epoch_1.pth'))
    r2.load_or_resume()
    w = first.model.fc.weight
    assert torch.equal(r2.model.fc.weight, w)


def test_init_cfg_pretrained_local(trained):
    wd, first = trained

    class Wrapped(BaseModule):

        def __init__(self):
            super().__init__(init_cfg=dict(
                type='Pretrained', checkpoint=str(wd / 'epoch_1.pth')))
            self.fc = nn.Linear(4, 2)

    m = Wrapped()
    m.init_weights()
    assert torch.equal(m.fc.weight, first.model.fc.weight)


class Sneaky:
    """Pickles as getattr(HistoryBuffer, '__init__'): a general getattr would
    let a file walk from there to module globals."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_restricted_to_history_buffer(tmp_path):
    import pickle
    p = tmp_path / 'sneaky.pth'
    torch.save({'meta': Sneaky()}, p)
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        safe_io.load_local(str(p), 'cpu')


def test_checkpoint_with_numpy_scalars_loads(tmp_path):
    p = tmp_path / 'np.pth'
    torch.save({'meta': {'a': np.float64(1.5), 'b': np.arange(3),
                         'c': np.int64(2)}, 'state_dict': {}}, p)
    ck = safe_io.load_local(str(p), 'cpu')
    assert ck['meta']['a'] == 1.5 and list(ck['meta']['b']) == [0, 1, 2]




def test_package_import_changes_nothing_a_config_names_it(run_py):
    """Importing spikeformer_mm leaves mmengine's loaders and file backend
    as they are; reading a config that inherits configs/_base_/safety.py
    installs safe loading and atomic writes, whichever tool reads it."""
    r = run_py('-c', textwrap.dedent('''
        from mmengine.config import Config
        from mmengine.fileio import get_file_backend
        from mmengine.runner.checkpoint import CheckpointLoader
        import spikeformer_mm
        def state():
            return (CheckpointLoader._get_checkpoint_loader('x.pth').__module__,
                    CheckpointLoader._get_checkpoint_loader('zoo://a').__module__,
                    type(get_file_backend('x.pth')).__name__)
        print(*state())
        Config.fromfile('configs/classification/'
                        'metaspikeformer-demo_1xb32_digits-t2.py')
        print(*state())
    '''))
    before, after = r.stdout.split('\n')[-3:-1]
    assert before == 'mmengine.runner.checkpoint mmengine.runner.checkpoint ' \
        'LocalBackend', before
    assert after == 'spikeformer_mm.engine.safe_io spikeformer_mm.zoo.fetch ' \
        'AtomicLocalBackend', after
