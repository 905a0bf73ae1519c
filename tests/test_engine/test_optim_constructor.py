"""GroupedOptimWrapperConstructor: mmengine's per-parameter settings, one
optimizer group per distinct setting, the same updates."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper

from spikeformer_mm.engine import merge_param_groups

GROUPED = 'spikeformer_mm.GroupedOptimWrapperConstructor'


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 2, 1), nn.Flatten(), nn.LazyLinear(3))


@pytest.mark.parametrize('optimizer', [
    dict(type='AdamW', lr=1e-2, weight_decay=0.01, fused=True),
    dict(type='AdamW', lr=1e-2, weight_decay=0.01, foreach=True),
    dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
    dict(type='mmpretrain.Lamb', lr=5e-3, weight_decay=0.02)])
def test_grouped_optimizer_updates_as_mmengines(optimizer):
    """Same paramwise settings, same parameters after several steps (exact),
    in two groups instead of one per parameter; custom keys keep their own
    group."""
    import mmpretrain.engine  # noqa: F401  (registers Lamb)
    paramwise = dict(norm_decay_mult=0., bias_decay_mult=0.,
                     custom_keys={'5.': dict(lr_mult=0.5)})
    got = []
    for ctor in ('DefaultOptimWrapperConstructor', GROUPED):
        m = _model()
        m(torch.rand(2, 3, 6, 6))  # materialise the lazy layer
        ow = build_optim_wrapper(m, dict(
            type='OptimWrapper', optimizer=optimizer, constructor=ctor,
            paramwise_cfg=paramwise))
        groups = ow.optimizer.param_groups
        torch.manual_seed(1)
        for _ in range(3):
            for p in m.parameters():
                p.grad = torch.randn_like(p)
            ow.step()
        got.append(([p.detach().clone() for p in m.parameters()], groups))
    (ref, ref_groups), (grouped, groups) = got
    assert len(ref_groups) == sum(1 for _ in _model().parameters())
    # the convs' weights (decayed), the norms and conv biases (no decay),
    # the linear layer (custom key: lr x 0.5, mmengine's decay for both)
    assert len(groups) == 3
    assert sorted(len(g['params']) for g in groups) == [2, 2, 4]
    assert all(torch.equal(a, b) for a, b in zip(ref, grouped))


def test_merge_keeps_order_and_distinct_settings():
    a, b, c, d = (nn.Parameter(torch.zeros(1)) for _ in range(4))
    groups = [dict(params=[a], lr=1.0), dict(params=[b], lr=1.0,
                                              weight_decay=0.0),
              dict(params=[c], lr=1.0), dict(params=[d], lr=0.5)]
    merged = merge_param_groups(groups)
    assert [[id(p) for p in g['params']] for g in merged] == \
        [[id(a), id(c)], [id(b)], [id(d)]]
    assert merged[1]['weight_decay'] == 0.0 and merged[2]['lr'] == 0.5


def test_demo_configs_use_it():
    """The demos' classifier gets 2 groups (426 parameters)."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from helpers import ROOT
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'))
    ow = build_optim_wrapper(MODELS.build(cfg.model), cfg.optim_wrapper)
    assert len(ow.optimizer.param_groups) == 2
