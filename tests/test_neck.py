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
