"""Integer spikes (I-LIF) run as binary spikes: the expanded model computes
the integer model's function (float64, 1e-9) on every layer kind, every
synaptic layer then reads 0/1 slots only, and the bias is added once."""
import copy

import pytest
import torch
import torch.nn as nn

from helpers import TINY_ARCH

TOL = 1e-9


def ilif(D):
    return dict(type='ILIF', max_spike_count=D)


def firing(model, seed=0):
    """BatchNorm statistics and affines that make every neuron fire, with
    counts up to D (a fresh model's unit statistics keep many silent)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) * 2 - 0.5)
    return model.eval()


def max_counts(model, run):
    """The largest count each I-LIF neuron emitted in ``run()``."""
    from spikeformer_mm.deploy.binary_expansion import integer_neurons
    seen = {}
    hs = [n.register_forward_hook(
        lambda m, a, o, k=k: seen.__setitem__(k, max(seen.get(k, 0),
                                                     float(o.max()))))
        for k, n in integer_neurons(model).items()]
    with torch.no_grad():
        run()
    for h in hs:
        h.remove()
    return seen


def expanded_equal(model, forward, outputs=lambda out: out):
    """Expand a deep copy of ``model``; return (max abs difference of the
    outputs, number of binary layer calls, expanded layer names)."""
    from spikeformer_mm.deploy import check_binary_form, expand_to_binary
    with torch.no_grad():
        ref = outputs(forward(model))
    binary = copy.deepcopy(model)
    names = expand_to_binary(binary, lambda: forward(binary))
    with torch.no_grad():
        out = outputs(forward(binary))
    n = check_binary_form(binary, lambda: forward(binary))
    diff = max(float((a - b).abs().max()) for a, b in zip(ref, out))
    return diff, n, names, binary


class Classifier(nn.Module):
    def __init__(self, T, D, attention='sdsa_v2'):
        super().__init__()
        from spikeformer_mm.models import MetaSpikeFormer
        from spikeformer_mm.models.heads.spiking_cls_head import \
            SpikingClsHead
        self.backbone = MetaSpikeFormer(arch=TINY_ARCH, T=T,
                                        neuron_cfg=ilif(D),
                                        attention=attention)
        self.head = SpikingClsHead(num_classes=10, in_channels=80,
                                   neuron_cfg=ilif(D))

    def forward(self, x):
        taps = self.backbone(x)
        return list(taps) + [self.head(taps)]


@pytest.mark.parametrize('form', [None, 'dense', 'factorised'])
@pytest.mark.parametrize('T,D', [(1, 2), (1, 4), (2, 2), (2, 4)])
def test_backbone_and_cls_head_equal_in_binary_form(T, D, form):
    """Downsampling convs (bias + folded BN), SepConv, the conv MLP, the
    attention's RepConv projections (training form and both deploy forms)
    and products, the MLP and the class head's linear."""
    from spikeformer_mm.deploy import switch_to_deploy
    from spikeformer_mm.deploy.binary_expansion import BinarySlotLayer
    from spikeformer_mm.models.layers import SpikingSelfAttention
    torch.manual_seed(T * 10 + D)
    model = firing(Classifier(T, D).double())
    if form:
        switch_to_deploy(model, form)
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    seen = max_counts(model, lambda: model(x))
    assert max(seen.values()) == D  # counts above 1 really occur
    diff, n, names, binary = expanded_equal(model, lambda m: m(x))
    assert diff <= TOL
    # (RepConv's dense deploy form is a Conv2d that knows its trained width)
    kinds = {'Conv2d' if isinstance(binary.get_submodule(k).layer,
                                    torch.nn.Conv2d)
             else type(binary.get_submodule(k).layer).__name__
             for k in names}
    assert kinds == {'Conv2d', 'Linear'}
    # every layer kind reads slots: downsampling, SepConv (1x1 and the
    # depthwise conv after its second neuron), the conv MLP, the attention
    # projections and output, the MLP, the class head
    for part in ('downsample2.encode_conv', 'Conv.pwconv1', 'Conv.dwconv',
                 'ConvBlock1_1.0.conv1', '.0.conv2', 'attn.q_conv',
                 'attn.proj_conv', 'mlp.fc1_conv', 'mlp.fc2_conv',
                 'head.head'):
        assert any(part in k for k in names), part
    assert not any(k.endswith('downsample1_1.encode_conv') for k in names)
    assert n >= len(names)
    assert all(a.binary_slots == D for a in binary.modules()
               if isinstance(a, SpikingSelfAttention))
    b = [m for m in binary.modules() if isinstance(m, BinarySlotLayer)]
    assert all(m.num_slots == D and m.layer.bias is None for m in b)


def test_bias_per_slot_is_caught():
    """Adding the bias in every slot (SpikeYOLO #73) breaks the equality;
    dropping the attention's pair sum does too (the test can fail)."""
    from spikeformer_mm.deploy.binary_expansion import BinarySlotLayer
    torch.manual_seed(1)
    model = firing(Classifier(1, 4).double())
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        ref = model(x)[-1]
    diff, _, _, binary = expanded_equal(model, lambda m: m(x))
    assert diff <= TOL
    for m in binary.modules():
        if isinstance(m, BinarySlotLayer) and m.bias is not None:
            m.layer.bias, m.bias = m.bias, None  # now added D times
    with torch.no_grad():
        assert float((binary(x)[-1] - ref).abs().max()) > 1e-3


def test_attention_products_over_unit_events():
    """The V2 products of counts equal the sums over pairs of unit events
    (computed here from the slots, independently of the layer)."""
    from spikeformer_mm.models.layers import SpikingSelfAttention
    torch.manual_seed(0)
    attn = SpikingSelfAttention(16, num_heads=2).double()
    D = 3
    q, k, v = (torch.randint(0, D + 1, (2, 1, 2, 5, 8)).double()
               for _ in range(3))
    ref = q @ (k.transpose(-2, -1) @ v)
    attn.binary_slots = D
    out = attn.binary_products(q, k, v)
    assert torch.equal(out, ref)
    slots = [[(t > d).double() for d in range(D)] for t in (q, k, v)]
    pairs = sum(ks.transpose(-2, -1) @ vs for ks in slots[1]
                for vs in slots[2])
    assert torch.equal(sum(qs @ pairs for qs in slots[0]), ref)


def test_expansion_refuses_what_it_cannot_make_binary():
    from spikeformer_mm.deploy import expand_to_binary
    from spikeformer_mm.models import MetaSpikeFormer
    lif = MetaSpikeFormer(arch=TINY_ARCH, T=1)
    with pytest.raises(ValueError, match='no I-LIF neuron'):
        expand_to_binary(lif, lambda: lif(torch.rand(1, 3, 32, 32)))
    v1 = Classifier(1, 2, attention='sdsa_v1')
    with pytest.raises(ValueError, match="attention='sdsa_v1'"):
        expand_to_binary(v1, lambda: v1(torch.rand(1, 3, 32, 32)))


def test_a_missed_layer_is_named():
    """check_binary_form names a synaptic layer that still reads counts."""
    from spikeformer_mm.deploy import check_binary_form
    torch.manual_seed(0)
    model = firing(Classifier(1, 4).double())
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    with pytest.raises(ValueError, match='read integer counts'):
        check_binary_form(model, lambda: model(x))


def build_ilif_detector(T, D):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from test_models.test_spiking_detection import SPIKING_CFG
    cfg = ilif(D)
    conf = Config.fromfile(SPIKING_CFG)
    m = conf.model
    m.backbone.T, m.backbone.init_cfg = T, None
    m.backbone.neuron_cfg = cfg
    m.neck.neuron_cfg = cfg
    m.rpn_head.neuron_cfg = cfg
    m.roi_head.bbox_head.neuron_cfg = cfg
    m.roi_head.mask_head.neuron_cfg = cfg
    init_default_scope('mmdet')
    model = MODELS.build(m)
    model.init_weights()
    return model


@pytest.mark.parametrize('T,D', [(1, 2), (2, 4)])
def test_spiking_detector_equal_in_binary_form(T, D):
    """The spiking FPN, RPN head, box head (shared fcs) and mask head (convs,
    upsampling, logits) with I-LIF neurons, deployed (BNs folded), on fixed
    RoIs."""
    from spikeformer_mm.deploy import switch_to_deploy
    from test_models.test_spiking_detection import batch, calibrated
    model = build_ilif_detector(T, D)
    data = batch(model)
    model = switch_to_deploy(calibrated(model, data)).double()
    inputs = data['inputs'].double()
    rois = torch.tensor([[0, 8, 8, 40, 44], [1, 30, 20, 60, 50],
                         [0, 0, 0, 63, 63]], dtype=torch.float64)

    def forward(m):
        feats = m.extract_feat(inputs)
        rpn = m.rpn_head(feats)
        x = m.roi_head._image_first(feats)
        box = m.roi_head._bbox_forward(x, rois)
        mask = m.roi_head._mask_forward(x, rois)
        return (list(feats) + [t for level in rpn for t in level] +
                [box['cls_score'], box['bbox_pred'], mask['mask_preds']])

    seen = max_counts(model, lambda: forward(model))
    assert max(seen.values()) > 1
    diff, n, names, _ = expanded_equal(model, forward)
    assert diff <= TOL
    for part in ('neck.lateral_convs', 'neck.fpn_convs', 'rpn_head.rpn_conv',
                 'rpn_head.rpn_cls', 'rpn_head.rpn_reg',
                 'roi_head.bbox_head.shared_fcs',
                 'roi_head.mask_head.convs', 'roi_head.mask_head.upsample',
                 'roi_head.mask_head.conv_logits'):
        assert any(k.startswith(part) for k in names), part


DEMO_ILIF = 'configs/classification/metaspikeformer-demo-ilif-d4_1xb32_digits-t1.py'


def _tool(argv):
    import importlib.util
    import os.path as osp
    from helpers import ROOT
    path = osp.join(ROOT, 'tools/analysis_tools/binary_equivalence.py')
    spec = importlib.util.spec_from_file_location('binary_equivalence', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main(argv)


def test_tool_proves_the_demo_config_equal(tmp_path, monkeypatch, capsys):
    """The tool on real val images (random weights, BN statistics of the
    images, so counts above 1 occur): equal, the JSON has every layer; with
    the bias added per slot it exits 1."""
    import json
    from helpers import ROOT
    from spikeformer_mm.deploy.binary_expansion import BinarySlotLayer
    monkeypatch.chdir(ROOT)
    out = tmp_path / 'r.json'
    assert _tool([DEMO_ILIF, '--T', '2', '--num-images', '2',
                  '--out', str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep['equal'] and rep['max_abs_diff'] <= TOL and rep['T'] == 2
    assert rep['num_slots'] == [4] and rep['num_images'] == 2
    assert rep['neurons_counting_above_one'] > rep['neurons'] // 2
    names = [layer['name'] for layer in rep['layers']]
    assert 'head.head' in names and 'outputs' in names
    assert any(n.startswith('backbone.tap') for n in names)
    assert 'max |integer - binary|' in capsys.readouterr().out

    forward = BinarySlotLayer.forward

    def bias_per_slot(self, x):
        y = forward(self, x)
        for _ in range(self.num_slots - 1):  # D times in all: once per slot
            y = self.add_bias(y)
        return y
    monkeypatch.setattr(BinarySlotLayer, 'forward', bias_per_slot)
    assert _tool([DEMO_ILIF, '--num-images', '1',
                  '--out', str(tmp_path / 'bad.json')]) == 1
    bad = json.loads((tmp_path / 'bad.json').read_text())
    assert not bad['equal'] and bad['max_abs_diff'] > 1e-3


def test_tool_refuses_a_binary_model(monkeypatch):
    from helpers import ROOT
    monkeypatch.chdir(ROOT)
    with pytest.raises(ValueError, match='no integer neuron'):
        _tool(['configs/classification/metaspikeformer-demo_1xb32_digits-t2.py',
               '--num-images', '1'])


def test_tool_on_the_event_project(tmp_path, monkeypatch):
    """Event-camera input: the encoder reads event counts (not a neuron's:
    not expanded, not refused); every layer after it runs on binary
    slots, equal to the integer model."""
    import json
    from helpers import ROOT
    monkeypatch.chdir(ROOT)
    out = tmp_path / 'e.json'
    assert _tool(['projects/event_digits/configs/'
                  'metaspikeformer-demo-ilif-d4_1xb32_event-digits-t1.py',
                  '--num-images', '1', '--out', str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep['equal'] and rep['neurons_counting_above_one'] > 0
    assert not any(layer['name'].endswith('downsample1_1.encode_conv')
                   for layer in rep['layers'])


def test_attention_products_on_counts_are_caught(monkeypatch):
    """The mutation this catches: ``SpikingSelfAttention.binary_products``
    multiplying the integer counts directly (``q @ (k^T @ v)``) in the
    binary form. The outputs stay equal (the same integers), so only a
    check of the products' operands sees it: check_binary_form names the
    attentions, and so the binary-equivalence tool exits 1."""
    from spikeformer_mm.deploy import check_binary_form, expand_to_binary
    from spikeformer_mm.models.layers import SpikingSelfAttention
    torch.manual_seed(0)
    model = firing(Classifier(1, 4).double())
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    expand_to_binary(model, lambda: model(x))
    assert check_binary_form(model, lambda: model(x)) > 0  # as built: fine
    monkeypatch.setattr(SpikingSelfAttention, 'binary_products',
                        lambda self, q, k, v: q @ (k.transpose(-2, -1) @ v))
    with pytest.raises(ValueError, match=r'attentions multiply integer '
                                         r'counts.*backbone\.block3'):
        check_binary_form(model, lambda: model(x))
    # products computed where the check cannot see them are refused too
    monkeypatch.setattr(SpikingSelfAttention, 'binary_products',
                        lambda self, q, k, v: (q.unsqueeze(-1) * (
                            k.transpose(-2, -1) @ v).unsqueeze(-3)).sum(-2))
    with pytest.raises(ValueError, match='attentions multiply'):
        check_binary_form(model, lambda: model(x))


class V3Classifier(nn.Module):
    """An E-SpikeFormer backbone (tiny) and its head, V3's neurons."""

    def __init__(self, large):
        super().__init__()
        from spikeformer_mm.models import ESpikeFormer, ESpikeFormerLarge
        from spikeformer_mm.models.backbones import e_spikeformer as v3
        from spikeformer_mm.models.heads.spiking_cls_head import \
            SpikingClsHead
        if large:
            self.backbone = ESpikeFormerLarge(
                arch=dict(embed_dims=[16, 32, 64], depth=2,
                          layer_scale_init=0.5))
        else:
            self.backbone = ESpikeFormer(arch=dict(embed_dims=TINY_ARCH[
                'embed_dims']))
        dim = self.backbone.tap_channels[-1]
        self.head = SpikingClsHead(
            num_classes=10, in_channels=dim, with_kd=large,
            head_input='pooled' if large else 'spikes',
            neuron_cfg=v3.V3_LARGE_HEAD_NEURON if large
            else v3.V3_BASE_HEAD_NEURON)

    def forward(self, x):
        return self.head(self.backbone(x))


@pytest.mark.parametrize('large', [False, True])
def test_e_spikeformer_equal_in_binary_form(large, monkeypatch):
    """E-SpikeFormer's counts (``k / 4``) run as unit events with weights
    ``W / 4``: every V3 layer kind (the SepConv with BN after the depthwise
    conv, the 3x3 conv MLP, the linear attention's (Q K^T) V with its wide
    V, the large model's two-conv projections, rep_conv branch and layer
    scales, the heads) equal in float64, every synaptic layer and attention
    product on 0/1. Mutation caught: the V3 attentions multiplying the
    counts directly (``_UnitEventProducts.matmul`` as ``a @ b``)."""
    from spikeformer_mm.deploy import check_binary_form
    from spikeformer_mm.models.e_spikeformer_layers import _UnitEventProducts
    torch.manual_seed(0)
    model = firing(V3Classifier(large).double())
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    seen = max_counts(model, lambda: model(x))
    assert max(seen.values()) >= 1.0  # counts of 4 (k / 4 = 1) occur
    diff, n, names, binary = expanded_equal(model, lambda m: m(x),
                                            lambda out: [out])
    assert diff < TOL and n > 0
    assert any('attn.proj_conv' in k for k in names)
    assert any(k.startswith('head.') for k in names)
    monkeypatch.setattr(_UnitEventProducts, 'matmul',
                        lambda self, a, b, a_counts=True, b_counts=True:
                        a @ b)
    with pytest.raises(ValueError, match='attentions multiply integer'):
        check_binary_form(binary, lambda: binary(x))


def test_unexpanded_v3_counts_are_named():
    """A V3 layer that reads its neuron's output as it is (counts / 4,
    which look like real values) is named by check_binary_form."""
    from spikeformer_mm.deploy import check_binary_form
    torch.manual_seed(0)
    model = firing(V3Classifier(False).double())
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    with pytest.raises(ValueError, match='read integer counts'):
        check_binary_form(model, lambda: model(x))


def test_tool_proves_the_v3_demo_config_equal(tmp_path, monkeypatch):
    """binary_equivalence.py on the E-SpikeFormer digits config: every
    V3 layer kind expanded, equal in float64, counts up to 4."""
    import json
    from helpers import ROOT
    monkeypatch.chdir(ROOT)
    out = tmp_path / 'v3.json'
    assert _tool(['configs/classification/e-spikeformer-demo_1xb32_digits-'
                  't1.py', '--num-images', '2', '--out', str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep['equal'] and rep['max_abs_diff'] <= TOL
    assert rep['num_slots'] == [4] and rep['max_count'] == 4
    assert rep['neurons_counting_above_one'] > rep['neurons'] // 2
    names = {layer['name'] for layer in rep['layers']}
    for kind in ('conv.dwconv.0', 'Conv.pwconv2.0', 'attn.v_conv.0',
                 'attn.proj_conv.0', 'ConvBlock1_1.0.conv2', 'head.head'):
        assert any(n.endswith(kind) for n in names), kind


def test_nilif_counts_equal_in_binary_form():
    """Spike2Former's normalised I-LIF (counts / D, a membrane over T) in
    the V2 backbone at T=2: each count k/4 as k unit events, equal."""
    from spikeformer_mm.models import MetaSpikeFormer
    from spikeformer_mm.models.heads.spiking_cls_head import SpikingClsHead
    torch.manual_seed(0)
    cfg = dict(type='NILIF', max_spike_count=4)
    model = nn.Sequential()
    model.backbone = MetaSpikeFormer(arch=TINY_ARCH, T=2, neuron_cfg=cfg)
    model.head = SpikingClsHead(num_classes=10, in_channels=80,
                                neuron_cfg=cfg)
    model = firing(model.double())
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    diff, n, names, _ = expanded_equal(
        model, lambda m: m.head(m.backbone(x)), lambda out: [out])
    assert diff < TOL and n > 0 and 'head.head' in names
