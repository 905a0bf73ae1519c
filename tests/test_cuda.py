"""GPU paths (skipped without CUDA): spikingjelly's CUDA kernels against the
CPU neuron, the backbone on CUDA against the reference vectors, the deploy
conversion and bf16 agreement on the GPU."""
import copy

import pytest
import torch

from spikeformer_mm.models import MetaSpikeFormer
from spikeformer_mm.models.neurons import build_neuron

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs CUDA')


def test_cuda_neuron_matches_cpu():
    torch.manual_seed(0)
    x = torch.randn(4, 64, 33) * 2
    cpu, gpu = build_neuron(), build_neuron()
    xc = x.clone().requires_grad_()
    xg = x.cuda().requires_grad_()
    sc, sg = cpu(xc), gpu(xg)
    assert torch.equal(sc, sg.cpu())
    w = torch.randn_like(sc)
    (sc * w).sum().backward()
    (sg * w.cuda()).sum().backward()
    assert torch.allclose(xc.grad, xg.grad.cpu(), atol=1e-5)


def test_backbone_on_cuda_matches_reference(converted_tiny, vectors):
    from spikeformer_mm.checkpoint import load_checkpoint_file
    ck = load_checkpoint_file(converted_tiny)
    m = MetaSpikeFormer(arch=ck['meta']['arch'], T=2,
                        out_indices=(0, 1, 2, 3, 4))
    m.load_state_dict({k[9:]: v for k, v in ck['state_dict'].items()
                       if k.startswith('backbone.')})
    m = m.double().cuda().eval()
    with torch.no_grad():
        outs = m(vectors['input'].cuda())
    refs = [vectors['tap_stride2_T2']] + list(vectors['taps_T2'])
    for o, r in zip(outs, refs):
        assert ((o.cpu() - r).abs().max() / r.abs().max()) < 1e-9


def test_deploy_and_bf16_on_cuda():
    from spikeformer_mm.deploy import switch_to_deploy
    torch.manual_seed(0)
    m = MetaSpikeFormer(arch='15M', T=1).cuda().eval()
    d = switch_to_deploy(copy.deepcopy(m))
    x = torch.randn(4, 3, 224, 224, device='cuda')
    with torch.no_grad():
        ref, out = m(x)[0], d(x)[0]
        with torch.autocast('cuda', dtype=torch.bfloat16):
            low = d(x)[0]
    assert (ref - out).abs().max() <= 1e-4 * max(1., ref.abs().max())
    agree = (low.float().sign() == ref.sign()).float().mean().item()
    assert agree > 0.9
