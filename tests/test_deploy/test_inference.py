import copy

import torch

from spikeformer_mm.models import MetaSpikeFormer
import pytest

from spikeformer_mm.deploy import switch_to_deploy
from spikeformer_mm.models.layers import RepConv

from helpers import TINY_ARCH, run_py


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
    fused = rep[0].fuse_dense(rep[1])
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
        fused = rep[0].fuse_factorised(rep[1])
        kinds = [(m.kernel_size, m.groups) for m in fused]
        assert kinds == [((1, 1), 1), ((3, 3), 6), ((1, 1), 1)]
        assert not any(isinstance(m, torch.nn.BatchNorm2d)
                       for m in fused.modules())
        assert torch.allclose(fused(x), rep(x), atol=1e-12)


@pytest.mark.parametrize('form', ['dense', 'factorised'])
def test_deployed_backbone_matches_trained(form):
    torch.manual_seed(0)
    m = MetaSpikeFormer(arch=TINY_ARCH, T=2,
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
    m = MetaSpikeFormer(arch=TINY_ARCH, T=1)
    with pytest.raises(ValueError, match='rep_conv'):
        switch_to_deploy(m, rep_conv='sparse')


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
@pytest.mark.parametrize('form,flag', [('dense', 'True'),
                                       ('factorised', 'factorised')])
def test_reparameterize_tool_round_trip(tmp_path, form, flag):
    """The tool's deploy checkpoint, loaded with the training config
    (``init_model`` deploys the model as the checkpoint's meta says) or
    with ``deploy=...``, gives the trained classifier's logits."""
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
    assert 'tools/test.py loads it with the same config' in r.stdout
    sd = torch.load(out, weights_only=True)['state_dict']
    x = torch.rand(3, 3, 32, 32) * 4 - 2
    with torch.no_grad():
        ref = model(x, mode='tensor')
    for deploy_flag in (None, True if flag == 'True' else flag):
        c = cfg.copy()
        if deploy_flag is not None:
            c.model.backbone.deploy = deploy_flag
        deployed = init_model(c, str(out))
        assert deployed.backbone.deploy == form
        assert set(sd) == set(deployed.state_dict())  # nothing unloaded
        with torch.no_grad():
            got = deployed(x, mode='tensor')
        assert (ref - got).abs().max() <= 1e-5 * max(1.0, ref.abs().max())


def _small(T, fused=True):
    return MetaSpikeFormer(arch=TINY_ARCH, T=T,
                           attn_scale=1.0, out_indices=(0, 1, 2, 3, 4),
                           neuron_cfg=dict(backend='fused' if fused
                                           else 'spikingjelly'))


@pytest.mark.parametrize('T', [1, 2])
def test_fast_inference_fp32_is_exact_and_channels_last(T):
    """prepare_inference in fp32: every 4-D weight and every tap NHWC, and
    the taps equal the plain model's (spikingjelly's neuron, BN and RepConv
    as trained) to 1e-5."""
    from spikeformer_mm.deploy import prepare_inference
    from spikeformer_mm.models.layers import is_channels_last
    torch.manual_seed(0)
    plain = _small(T, fused=False)
    randomize_bn(plain)
    plain.eval()
    fast = _small(T)
    fast.load_state_dict(plain.state_dict())
    prepare_inference(fast, 'cpu', 'fp32')
    assert fast.deploy == 'factorised'  # measured fastest on CPUs
    weights = [p for p in fast.parameters() if p.dim() == 4
               and p.shape[1] > 1]
    assert weights and all(is_channels_last(p) for p in weights)
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        ref, out = plain(x), fast(x)
    for r, o in zip(ref, out):
        assert o.dtype == torch.float32 and is_channels_last(o)
        assert (r - o).abs().max() <= 1e-5 * max(1.0, r.abs().max())


def _attention_shapes(model, x):
    """The exact shapes of the attention's per-head tensors in a forward of
    ``model`` on ``x``: ``[T, B, heads, N, d]`` (split),
    ``[T, B, heads, d, N]`` (K transposed) and ``[T, B, N, heads, d]``
    (merge) for each attention layer."""
    from spikeformer_mm.models.layers import SpikingSelfAttention
    shapes, hooks = set(), []

    def record(mod, args):
        T, B, C, H, W = args[0].shape
        h, N, d = mod.num_heads, H * W, C // mod.num_heads
        # per-head Q/K/V, K^T (the K^T V product) and the merge
        shapes.update({(T, B, h, N, d), (T, B, h, d, N), (T, B, N, h, d)})
    for mod in model.modules():
        if isinstance(mod, SpikingSelfAttention):
            hooks.append(mod.register_forward_pre_hook(record))
    with torch.inference_mode():
        model(x)
    for h in hooks:
        h.remove()
    return shapes


def _conversions(prof, allowed_numel, allowed_shapes=()):
    """Layout/dtype conversions a profiled step ran, other than those of
    the input image (``allowed_numel``) and the attention's head split and
    merge (``allowed_shapes``, exactly: the per-head product needs
    [T, B, heads, N, d], the layers [T, B, N, C]: inherent to multi-head
    attention, and in the paper's code too)."""
    names = ('aten::to', 'aten::_to_copy', 'aten::contiguous', 'aten::clone',
             'aten::copy_', 'aten::reshape_copy')
    out = []
    for e in prof.events():
        if e.name not in names or not e.input_shapes or \
                not e.input_shapes[0]:
            continue
        shape = tuple(e.input_shapes[0])
        n = 1
        for s in shape:
            n *= s
        # scalars PyTorch wraps as 0-d tensors; the input (image, and the
        # image repeated over T); the attention's per-head tensors
        if n <= 1 or n in allowed_numel or shape in allowed_shapes:
            continue
        if e.name == 'aten::to' and not any(
                c.name == 'aten::_to_copy' for c in e.cpu_children):
            continue  # to() that returned its input: no work
        if _torchs_one_thread_1x1_conv(e):
            continue
        out.append((e.name, shape))
    return out


def _torchs_one_thread_1x1_conv(event):
    """A copy made inside PyTorch's own non-oneDNN convolution
    (``_slow_conv2d_forward``, which wants NCHW) for a 1x1 conv at one
    thread: ATen's backend choice (``use_mkldnn`` in Convolution.cpp skips
    oneDNN for an unstrided 1x1 conv with a batch under 16 when
    ``at::get_num_threads() == 1``), not a conversion of this toolbox's.
    At one thread the fast path keeps every other layer NHWC."""
    if torch.get_num_threads() != 1:
        return False
    p = event.cpu_parent
    while p is not None and p.name != 'aten::convolution':
        if p.name not in ('aten::_slow_conv2d_forward', 'aten::thnn_conv2d',
                          'aten::_convolution', 'aten::contiguous'):
            return False
        p = p.cpu_parent
    return p is not None and len(p.input_shapes) > 1 and \
        tuple(p.input_shapes[1][-2:]) == (1, 1)


@pytest.mark.parametrize('dtype', [
    'fp32', pytest.param('bf16', marks=pytest.mark.needs_native_bf16)])
@pytest.mark.parametrize('T', [1, 2])
def test_fast_inference_converts_nothing_between_layers(T, dtype):
    """The profiler sees no layout or dtype conversion in a fast step: the
    input is converted once (NHWC, bf16); neurons, convs, the MLP and the
    attention keep NHWC and the weights' dtype from layer to layer. (bf16
    needs a CPU with native bf16: elsewhere oneDNN's reference kernels
    convert, and the test is skipped with that reason.)"""
    from torch.profiler import profile
    from spikeformer_mm.deploy import prepare_inference
    torch.manual_seed(0)
    m = _small(T)
    randomize_bn(m)
    prepare_inference(m, 'cpu', dtype)
    x = torch.rand(2, 3, 64, 64)
    heads = _attention_shapes(m, x)
    assert heads  # the tiny model has attention layers
    with torch.inference_mode():
        m(x)  # warm-up
        with profile(record_shapes=True) as prof:
            out = m(x)
    want = torch.bfloat16 if dtype == 'bf16' else torch.float32
    assert all(o.dtype == want for o in out)
    # the input converted once; at T > 1 the encoding conv runs once on the
    # static image and its output is copied to the T steps (instead of
    # T - 1 more convs)
    from spikeformer_mm.models.layers import SpikingDownsample
    enc = next(mod for mod in m.modules()
               if isinstance(mod, SpikingDownsample)).encode_conv
    seen = []
    h = enc.register_forward_hook(lambda mod, a, o: seen.append(o.numel()))
    with torch.inference_mode():
        m(x)
    h.remove()
    copies = {x.numel(), T * x.numel()} | ({T * seen[0]} if T > 1 else set())
    assert _conversions(prof, copies, heads) == []
    # the check sees a conversion when there is one, in any stage: an NCHW
    # input to a downsampling layer (the first stage's has 8 channels, as
    # many as the attention has heads) forces it to convert
    for down in [mod for mod in m.modules()
                 if isinstance(mod, SpikingDownsample)][1:3]:
        with torch.inference_mode(), profile(record_shapes=True) as prof:
            down(torch.rand(T, 2, down.encode_conv.in_channels, 32,
                            32).to(want))
        assert _conversions(prof, set(), heads)


def test_auto_rep_conv_form_and_its_errors():
    """``rep_conv='auto'`` deploys the form recorded for the device (the
    CPU rows were measured with benchmark.py --rep-conv; docs/speed.md gives
    the figures), device indices included; unknown pairs are refused."""
    from spikeformer_mm.deploy import fastest_rep_conv, prepare_inference
    m = prepare_inference(_small(1), 'cpu', 'fp32')
    assert m.deploy == fastest_rep_conv('cpu', 'fp32')
    kinds = {mod.groups for mod in m.block3[0].attn.q_conv.modules()
             if isinstance(mod, torch.nn.Conv2d)}
    assert kinds == ({1, 64} if m.deploy == 'factorised' else {1})
    assert fastest_rep_conv('cuda:1', 'fp16') == fastest_rep_conv('cuda',
                                                                  'fp16')
    with pytest.raises(ValueError, match="device 'cpu' and dtype 'fp16'"):
        fastest_rep_conv('cpu', 'fp16')
    with pytest.raises(ValueError, match='dtype must be one of'):
        prepare_inference(_small(1), 'cpu', 'int8')


def test_paper_conv1d_mlp_weights_load():
    """The paper's MLP is Conv1d ([out, in, 1] weights); this project runs
    it as Conv2d. A state_dict with the Conv1d shapes (the paper's, or this
    project's before the change) loads into the same function."""
    torch.manual_seed(0)
    a, b = _small(1), _small(1)
    sd = {k: v[..., 0] if k.endswith(('fc1_conv.weight', 'fc2_conv.weight'))
          else v for k, v in a.state_dict().items()}
    assert sd['block3.0.mlp.fc1_conv.weight'].dim() == 3
    b.load_state_dict(sd)
    for k, v in a.state_dict().items():
        assert torch.equal(b.state_dict()[k], v)


def test_fast_inference_at_one_thread():
    """At one thread (OMP_NUM_THREADS=1) PyTorch runs small 1x1 convs
    without oneDNN, copying their NHWC input to NCHW: the check above allows
    exactly those copies there (and shows none other), checked here at one
    thread whatever the suite's thread count."""
    from torch.profiler import profile

    from spikeformer_mm.deploy import prepare_inference
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        test_fast_inference_converts_nothing_between_layers(2, 'fp32')
        torch.manual_seed(0)
        m = _small(1)
        prepare_inference(m, 'cpu', 'fp32')
        with torch.inference_mode(), profile(record_shapes=True) as prof:
            m(torch.rand(2, 3, 64, 64))
        allowed = [e for e in prof.events() if e.name == 'aten::copy_'
                   and _torchs_one_thread_1x1_conv(e)]
        assert allowed, 'no 1x1 conv left oneDNN: the allowance is unused'
    finally:
        torch.set_num_threads(threads)
