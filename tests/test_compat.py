"""The compat fixes of spikeformer_mm.compat (what today's stack breaks)."""
import textwrap

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel, BaseModule
from mmengine.runner import Runner

import spikeformer_mm  # noqa: F401  (installs the fixes)
from conftest import run_py
from spikeformer_mm import compat


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
    ck = compat._load_from_local(str(path), 'cpu')
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
        compat._load_from_local(str(p), 'cpu')


def test_checkpoint_with_numpy_scalars_loads(tmp_path):
    p = tmp_path / 'np.pth'
    torch.save({'meta': {'a': np.float64(1.5), 'b': np.arange(3),
                         'c': np.int64(2)}, 'state_dict': {}}, p)
    ck = compat._load_from_local(str(p), 'cpu')
    assert ck['meta']['a'] == 1.5 and list(ck['meta']['b']) == [0, 1, 2]


def test_package_helpers_agree_with_pkg_resources():
    from mmengine.utils import package_utils as pu
    for pkg in ('mmdet', 'mmsegmentation', 'mmpretrain', 'mmcv'):
        assert compat.is_installed(pkg)
        assert compat.get_installed_path(pkg) == pu.get_installed_path(pkg)
    assert not compat.is_installed('surely-not-a-package-xyz')


def test_mm_base_configs_without_pkg_resources(tmp_path):
    """setuptools >= 82 has no pkg_resources: the shim makes mmdet::,
    mmseg:: and mmpretrain:: bases work all the same."""
    bases = {'det': 'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
             'seg': 'mmseg::_base_/models/fpn_r50.py',
             'cls': 'mmpretrain::_base_/models/resnet18.py'}
    for k, base in bases.items():
        (tmp_path / f'{k}.py').write_text(f'_base_ = [{base!r}]\n')
    script = tmp_path / 'probe.py'
    script.write_text(textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == 'pkg_resources' or name.startswith('pkg_resources.'):
                    raise ImportError('pkg_resources removed (setuptools>=82)')
        sys.meta_path.insert(0, Block())
        sys.modules.pop('pkg_resources', None)
        import spikeformer_mm
        from mmengine.config import Config
        for k in ('det', 'seg', 'cls'):
            cfg = Config.fromfile(f'{tmp_path}/{{k}}.py')
            print(cfg.model.type, cfg.model.backbone.type)
    """))
    r = run_py(str(script))
    assert r.stdout.split() == ['MaskRCNN', 'ResNet', 'EncoderDecoder',
                                'ResNetV1c', 'ImageClassifier', 'ResNet']
