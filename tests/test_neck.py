import pytest
import torch

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


def test_inner_neck_takes_the_backbones_channels():
    """``SpikeToDense(neck=FPN)`` without in_channels: the FPN gets the
    channels of the backbone built just before, in the caller's scope."""
    from mmengine.registry import MODELS, init_default_scope

    from spikeformer_mm.models import MetaSpikeFormer
    init_default_scope('mmdet')
    bb = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 80]), T=2,
                         out_indices=(0, 1, 2, 4))
    neck = MODELS.build(dict(type='spikeformer_mm.SpikeToDense',
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


def test_inner_neck_without_a_backbone_asks_for_in_channels():
    import threading
    errors = []

    def build():  # a fresh thread has built no backbone
        try:
            SpikeToDense(neck=dict(type='FPN', out_channels=8, num_outs=2))
        except ValueError as e:
            errors.append(str(e))
    t = threading.Thread(target=build)
    t.start()
    t.join()
    assert errors and 'pass in_channels' in errors[0]
