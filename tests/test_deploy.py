import copy

import torch

from spikeformer_mm.models import MetaSpikeFormer
from spikeformer_mm.models.deploy import (fuse_conv_bn, fuse_rep_conv,
                                          switch_to_deploy)
from spikeformer_mm.models.layers import RepConv


def randomize_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.3 + 0.5)


def test_fuse_rep_conv_is_exact():
    rep = torch.nn.Sequential(RepConv(6, 10), torch.nn.BatchNorm2d(10))
    randomize_bn(rep)
    rep.eval()
    x = torch.rand(2, 6, 9, 7).double()
    rep = rep.double()
    fused = fuse_rep_conv(rep[0], rep[1])
    assert fused.kernel_size == (3, 3) and fused.padding == (1, 1)
    assert torch.allclose(fused(x), rep(x), atol=1e-12)


def test_fuse_conv_bn_1d_and_2d():
    for conv, bn, x in (
            (torch.nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=False),
             torch.nn.BatchNorm2d(6), torch.rand(2, 4, 5, 5)),
            (torch.nn.Conv1d(4, 6, 1), torch.nn.BatchNorm1d(6),
             torch.rand(2, 4, 7))):
        seq = torch.nn.Sequential(conv, bn)
        randomize_bn(seq)
        seq.eval()
        assert torch.allclose(fuse_conv_bn(conv, bn)(x), seq(x), atol=1e-6)


def test_deployed_backbone_matches_trained():
    torch.manual_seed(0)
    m = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 80]), T=2,
                        attn_scale=1.0, out_indices=(0, 1, 2, 3, 4))
    randomize_bn(m)
    m.eval()
    d = switch_to_deploy(copy.deepcopy(m))
    n_bn = sum(isinstance(x, torch.nn.modules.batchnorm._BatchNorm)
               for x in d.modules())
    n_rep = sum(isinstance(x, RepConv) for x in d.modules())
    assert n_bn == 0 and n_rep == 0
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        ref, out = m(x), d(x)
    for r, o in zip(ref, out):
        assert (r - o).abs().max() <= 1e-5 * max(1.0, r.abs().max())
