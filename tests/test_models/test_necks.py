import pytest
import torch

from helpers import TINY_ARCH
from spikeformer_mm.models import SpikeToDense


def test_reductions():
    x = torch.tensor([[1., 0.], [1., 1.], [0., 1.]]).view(3, 1, 2, 1, 1)
    for mode, want in [('mean', [2 / 3, 2 / 3]), ('sum', [2., 2.]),
                       ('last', [0., 1.]), ('max', [1., 1.])]:
        (y, ) = SpikeToDense(reduction=mode)((x, ))
        assert y.shape == (1, 2, 1, 1)
        assert torch.allclose(y.flatten(), torch.tensor(want))


def test_projection_and_errors():
    neck = SpikeToDense(in_channels=[4, 8], out_channels=16)
    ys = neck((torch.rand(2, 1, 4, 8, 8), torch.rand(2, 1, 8, 4, 4)))
    assert [y.shape for y in ys] == [(1, 16, 8, 8), (1, 16, 4, 4)]
    with pytest.raises(ValueError, match='reduction'):
        SpikeToDense(reduction='median')
    with pytest.raises(ValueError, match='level 0'):
        SpikeToDense()((torch.rand(1, 4, 8, 8), ))


def test_inner_neck_gets_in_channels_in_the_callers_scope():
    """``SpikeToDense(in_channels, neck=FPN)``: the FPN is built in the
    caller's default scope with those channels."""
    from mmengine.registry import MODELS, init_default_scope

    from spikeformer_mm.models import MetaSpikeFormer
    init_default_scope('mmdet')
    bb = MetaSpikeFormer(arch=TINY_ARCH, T=2, out_indices=(0, 1, 2, 4))
    neck = MODELS.build(dict(type='spikeformer_mm.SpikeToDense',
                             in_channels=list(bb.out_channels),
                             neck=dict(type='FPN', out_channels=8,
                                       num_outs=4)))
    assert type(neck.neck).__module__.startswith('mmdet.')
    assert neck.neck.in_channels == [8, 16, 32, 80]
    outs = neck(bb(torch.rand(1, 3, 32, 32)))
    assert [o.shape[1] for o in outs] == [8] * 4
    # a checkpoint of the older list form (neck=[SpikeToDense, FPN],
    # keys neck.1.*) loads into it
    holder = torch.nn.Module()
    holder.neck = neck
    old = {k.replace('neck.neck.', 'neck.1.'): v.clone().fill_(0.5)
           for k, v in holder.state_dict().items()}
    assert all(k.startswith('neck.1.') for k in old)
    holder.load_state_dict(old)
    assert all((v == 0.5).all() for v in neck.neck.state_dict().values())


def test_channels_come_from_the_arguments_never_from_another_backbone():
    """No module learns its channels from hidden state: a neck built right
    after an unrelated backbone needs its own in_channels, and one whose
    in_channels do not fit its input is refused at the first forward,
    naming both."""
    from spikeformer_mm.models import MetaSpikeFormer
    bb = MetaSpikeFormer(arch=TINY_ARCH, T=2, out_indices=(0, 1, 2, 4))
    MetaSpikeFormer(arch='15M')  # built last: must not matter
    with pytest.raises(ValueError, match='in_channels'):
        SpikeToDense(neck=dict(type='FPN', out_channels=8, num_outs=2))
    neck = SpikeToDense(in_channels=[32, 64, 128, 360], out_channels=8)
    with pytest.raises(ValueError, match=r'level 0 has 8 channels, but '
                       r'in_channels=\[32, 64, 128, 360\]'):
        neck(bb(torch.rand(1, 3, 32, 32)))
    from spikeformer_mm.models.backbones import meta_spikeformer
    assert not any('thread' in type(v).__module__
                   for v in vars(meta_spikeformer).values())
