import copy

import torch

from spikeformer_mm.models import MetaSpikeFormer
import pytest

from spikeformer_mm.models.deploy import (fuse_rep_conv,
                                          fuse_rep_conv_factorised,
                                          switch_to_deploy)
from spikeformer_mm.models.layers import RepConv

from conftest import run_py


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


def test_fuse_rep_conv_factorised_is_exact():
    rep = torch.nn.Sequential(RepConv(6, 10), torch.nn.BatchNorm2d(10))
    randomize_bn(rep)
    rep.eval()
    rep = rep.double()
    # spikes in, as in the model, and real values (the fold holds for both)
    for x in (torch.rand(2, 6, 9, 7).double(),
              (torch.rand(2, 6, 9, 7) > 0.7).double()):
        fused = fuse_rep_conv_factorised(rep[0], rep[1])
        kinds = [(m.kernel_size, m.groups) for m in fused]
        assert kinds == [((1, 1), 1), ((3, 3), 6), ((1, 1), 1)]
        assert not any(isinstance(m, torch.nn.BatchNorm2d)
                       for m in fused.modules())
        assert torch.allclose(fused(x), rep(x), atol=1e-12)


@pytest.mark.parametrize('form', ['dense', 'factorised'])
def test_deployed_backbone_matches_trained(form):
    torch.manual_seed(0)
    m = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 80]), T=2,
                        attn_scale=1.0, out_indices=(0, 1, 2, 3, 4))
    randomize_bn(m)
    m.eval()
    d = switch_to_deploy(copy.deepcopy(m), rep_conv=form)
    # the method mmpretrain's reparameterize_model.py calls does the same
    d2 = copy.deepcopy(m).switch_to_deploy(form)
    assert d2.deploy == form
    assert d2.state_dict().keys() == d.state_dict().keys()
    n_bn = sum(isinstance(x, torch.nn.modules.batchnorm._BatchNorm)
               for x in d.modules())
    n_rep = sum(isinstance(x, RepConv) for x in d.modules())
    assert n_bn == 0 and n_rep == 0
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        ref, out = m(x), d(x)
    for r, o in zip(ref, out):
        assert (r - o).abs().max() <= 1e-5 * max(1.0, r.abs().max())


def test_unknown_rep_conv_form():
    m = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 80]), T=1)
    with pytest.raises(ValueError, match='rep_conv'):
        switch_to_deploy(m, rep_conv='sparse')


@pytest.mark.parametrize('form,flag', [('dense', 'True'),
                                       ('factorised', 'factorised')])
def test_reparameterize_tool_round_trip(tmp_path, form, flag):
    """The tool's deploy checkpoint, loaded with ``deploy=...``, gives the
    trained classifier's logits."""
    from mmengine.config import Config

    from spikeformer_mm.apis import init_model
    cfg_path = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
    cfg = Config.fromfile(cfg_path)
    torch.manual_seed(0)
    model = init_model(cfg)
    randomize_bn(model)
    ckpt, out = tmp_path / 'trained.pth', tmp_path / 'deploy.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    r = run_py('tools/model_converters/reparameterize.py', cfg_path,
               str(ckpt), str(out), '--rep-conv', form)
    assert f'model.backbone.deploy={flag}' in r.stdout
    cfg.model.backbone.deploy = True if flag == 'True' else flag
    deployed = init_model(cfg, str(out))
    sd = torch.load(out, weights_only=True)['state_dict']
    assert set(sd) == set(deployed.state_dict())  # nothing left unloaded
    x = torch.rand(3, 3, 32, 32) * 4 - 2
    with torch.no_grad():
        ref = model(x, mode='tensor')
        got = deployed(x, mode='tensor')
    assert (ref - got).abs().max() <= 1e-5 * max(1.0, ref.abs().max())
