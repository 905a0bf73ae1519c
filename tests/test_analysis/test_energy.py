"""Energy accounting on cases whose answer follows by hand."""
import json

import pytest
import torch
import torch.nn as nn

from helpers import run_py
from spikeformer_mm.analysis.energy_meter import E_AC_PJ, E_MAC_PJ, EnergyMeter


def measure(model, x, T, n_images=1):
    meter = EnergyMeter(model, T)
    meter.run(lambda: model(x), n_images)
    meter.remove()
    return meter.report()


def layer(report, name):
    return next(r for r in report['layers'] if r['name'] == name)


def test_all_ones_spikes_give_T_times_flops():
    T = 2
    model = nn.Sequential(nn.Conv2d(4, 6, 1))
    rep = measure(model, torch.ones(T, 4, 5, 5), T)  # [T*B, C, H, W], B=1
    row = layer(rep, '0')
    dense_per_step = 25 * 6 * 4
    assert row['spike_input'] and row['firing_rate'] == 1.0
    assert row['sops'] == T * dense_per_step and row['macs'] == 0
    assert rep['energy_mJ'] == pytest.approx(T * dense_per_step * E_AC_PJ
                                             * 1e-9)


def test_silent_input_costs_nothing():
    """Silent spikes cost nothing; the zeros a layer computes are real
    values to the layer after it: it multiplies them (as it runs)."""
    model = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, bias=False),
                          nn.Linear(5, 3, bias=False))
    rep = measure(model, torch.zeros(2, 4, 5, 5), 2)
    first, second = layer(rep, '0'), layer(rep, '1')
    assert first['sops'] == 0 and first['macs'] == 0
    assert first['firing_rate'] == 0.0
    assert second['source'] == 'real-valued (0)' and not second['spike_input']
    assert second['macs'] == 2 * 6 * 5 * 5 * 3 and second['sops'] == 0
    assert rep['energy_mJ'] == pytest.approx(second['macs'] * E_MAC_PJ * 1e-9)


def test_known_small_layers():
    lin = nn.Sequential(nn.Linear(3, 2))
    spikes = torch.tensor([[1., 0., 1.]])
    rep = measure(lin, spikes, 1)
    assert layer(rep, '0')['sops'] == 4  # 2 spikes x 2 outputs
    real = torch.tensor([[0.3, -1.2, 2.0]])
    rep = measure(lin, real, 1)
    row = layer(rep, '0')
    assert row['macs'] == 6 and row['sops'] == 0 and not row['spike_input']
    assert rep['energy_mJ'] == pytest.approx(6 * E_MAC_PJ * 1e-9)
    # per image: two images, same spikes -> same per-image count
    rep = measure(lin, spikes.repeat(2, 1), 1, n_images=2)
    assert layer(rep, '0')['sops'] == 4


def test_attention_products_by_hand():
    from spikingjelly.activation_based import functional
    from spikeformer_mm.models.layers import SpikingSelfAttention
    torch.manual_seed(0)
    attn = SpikingSelfAttention(16, 2, scale=1.0).eval()
    for conv in (attn.q_conv, attn.k_conv, attn.v_conv):
        conv[1].bias.data.uniform_(0, 3)
    x = torch.rand(1, 1, 16, 4, 4) * 6
    q, k, v = {}, {}, {}
    for d, lif in ((q, attn.q_lif), (k, attn.k_lif), (v, attn.v_lif)):
        lif.register_forward_hook(lambda m, i, o, d=d: d.setdefault('s', o))
    functional.reset_net(attn)
    rep = measure(attn, x, 1)
    row = layer(rep, '')  # the attention module itself is the matmul row
    qs, ks, vs = (d['s'].reshape(1, 2, 8, 16) for d in (q, k, v))
    # K^T V: one AC per co-active (k, v) pair; Q (K^T V): nnz(Q) x d
    kv = torch.einsum('bhcn,bhdn->bhcd', ks, vs)
    expected = kv.sum().item() + qs.sum().item() * 8
    assert row['type'] == 'matmul' and row['sops'] == expected
    assert 0 < row['firing_rate'] < 1


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
@pytest.mark.parametrize('cfg,size', [
    ('configs/classification/metaspikeformer-demo_1xb32_digits-t2.py', 32),
    ('configs/detection/mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py', 96),
    ('configs/detection/mask-rcnn_metaspikeformer-demo_spikefpn_digits-t2.py',
     96),
    ('configs/segmentation/fpn_metaspikeformer-demo_digits-64x64-t2.py', 64),
])
def test_energy_tool_on_demo_configs(tmp_path, cfg, size):
    out = tmp_path / 'e.json'
    r = run_py('tools/analysis_tools/energy.py', cfg, '--random',
               '--img-size', str(size), str(size), '--num-images', '2',
               '--out', str(out), '--cfg-options',
               'model.backbone.init_cfg=None')
    rep = json.loads(out.read_text())
    assert (tmp_path / 'e.png').stat().st_size > 1000
    assert rep['T'] == 2 and rep['num_images'] == 2 and rep['params'] > 0
    total = sum(x['macs'] * E_MAC_PJ + x['sops'] * E_AC_PJ
                for x in rep['layers']) * 1e-9
    assert rep['energy_mJ'] == pytest.approx(total)
    assert sum(x['energy_mJ'] for x in rep['layers']) == \
        pytest.approx(rep['energy_mJ'])
    assert all(0 <= x['firing_rate'] <= 1 for x in rep['layers'])
    # the encoding conv sees pixels: MACs; the backbone's others: spikes
    enc = [x for x in rep['layers'] if x['name'].endswith(
        'downsample1_1.encode_conv')][0]
    assert enc['macs'] > 0 and enc['sops'] == 0
    assert sum(x['type'] == 'matmul' for x in rep['layers']) == 8
    assert 'total' in r.stdout


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_energy_tool_conventions_and_curves(tmp_path):
    """energy.py --convention paper --flops-basis trained --assume-rate
    --memory: the table in the papers' convention, both totals in the JSON,
    the energy at assumed rates rising with the rate, the memory term
    beside (not in) the total."""
    out = tmp_path / 'e.json'
    r = run_py('tools/analysis_tools/energy.py',
               'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py',
               '--random', '--img-size', '32', '32', '--num-images', '2',
               '--convention', 'paper', '--flops-basis', 'trained',
               '--assume-rate', '0.15', '0.25', '--memory', '--out', str(out))
    rep = json.loads(out.read_text())
    assert rep['convention'] == 'paper' and rep['flops_basis'] == 'trained'
    assert rep['energy_mJ'] == rep['conventions']['paper']
    assert set(rep['conventions']) == {'measured', 'paper'}
    a, b = rep['assumed_rates']
    assert (a['rate'], b['rate']) == (0.15, 0.25)
    assert b['paper'] > a['paper'] and b['measured'] > a['measured']
    sj = rep['spikingjelly_simple_energy']
    assert sj['memory_mJ'] > 0
    assert 'the table shows paper' in r.stdout
    assert 'memory access' in r.stdout and 'not added' in r.stdout
    for x in rep['layers']:
        assert {'source', 'measured', 'paper'} <= set(x)
    assert rep['non_spike_input']['layers']  # SepConv's second 1x1 convs
    bad = run_py('tools/analysis_tools/energy.py',
                 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py',
                 '--random', '--assume-rate', '1.5', check=False)
    assert bad.returncode == 1 and \
        'error: --assume-rate: a rate is in [0, 1], got [1.5]' in bad.stderr


def test_event_count_sops_are_events_times_fanout():
    """A layer fed event counts: each event costs one accumulate per weight
    it reaches (checked against a brute-force count, grouped conv too)."""

    from spikeformer_mm.analysis.energy_meter import _count_sops
    torch.manual_seed(0)
    x = torch.randint(0, 3, (2, 4, 5, 5)).float()
    for conv in (nn.Conv2d(4, 6, 3, stride=2, padding=1),
                 nn.Conv2d(4, 6, 3, padding=1, groups=2)):
        # brute force: every (output, weight) pair adds the input it reads
        w = torch.ones_like(conv.weight)
        ref = nn.functional.conv2d(x, w, stride=conv.stride,
                                   padding=conv.padding, groups=conv.groups)
        assert _count_sops(conv, x) == pytest.approx(float(ref.sum()))
    lin = nn.Linear(7, 3)
    v = torch.randint(0, 4, (5, 7)).float()
    assert _count_sops(lin, v) == float(v.sum()) * 3


def test_integer_spikes_are_counted_as_unit_events():
    """I-LIF: the meter counts the binary form. By hand from the counts: a
    1x1 conv or linear fed counts does sum(counts) x out ACs, the
    attention's K^T V the sum of the count products, Q (K^T V) sum(Q) x d;
    in the deployed model no MAC but the encoder's (pixels) and SepConv's
    second 1x1 conv (it reads the real-valued depthwise output, as in the
    paper); both rates reported."""
    from spikingjelly.activation_based import functional
    from spikeformer_mm.deploy import expand_to_binary, switch_to_deploy
    from spikeformer_mm.deploy.binary_expansion import BinarySlotLayer
    from spikeformer_mm.models.layers import SpikingSelfAttention
    from test_deploy.test_binary_expansion import Classifier, firing
    torch.manual_seed(0)
    D = 4
    model = switch_to_deploy(firing(Classifier(1, D)))
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(ValueError, match='binary form'):
        EnergyMeter(model, 1)
    expand_to_binary(model, lambda: model(x))
    ins, qkv = {}, {}
    for n, m in model.named_modules():
        if isinstance(m, BinarySlotLayer):
            m.register_forward_pre_hook(
                lambda m, a, n=n: ins.__setitem__(n, a[0].detach()))
        if isinstance(m, SpikingSelfAttention):
            for lif in ('q_lif', 'k_lif', 'v_lif'):
                getattr(m, lif).register_forward_hook(
                    lambda m, a, o, n=n, lif=lif:
                    qkv.setdefault(n, {}).__setitem__(lif, o.detach()))
    functional.reset_net(model)
    rep = measure(model, x, 1, n_images=2)
    rows = {r['name']: r for r in rep['layers']}
    checked = 0
    for n, c in ins.items():
        m = model.get_submodule(n).layer
        if isinstance(m, nn.Linear) or m.kernel_size == (1, 1):
            out = m.out_features if isinstance(m, nn.Linear) \
                else m.out_channels
            assert rows[n]['sops'] == pytest.approx(c.sum().item() * out / 2)
            checked += 1
        assert rows[n]['macs'] == 0 and rows[n]['input'] == 'binary slots (D=4)'
        assert rows[n]['events_per_neuron_step'] == pytest.approx(
            c.mean().item())
        assert rows[n]['firing_rate'] == pytest.approx((c > 0).double().mean()
                                                       .item())
    assert checked >= 10
    for n, d in qkv.items():
        heads = model.get_submodule(n).num_heads
        q, k, v = (d[s].reshape(2, heads, -1, d[s].shape[-1] * d[s].shape[-2])
                   for s in ('q_lif', 'k_lif', 'v_lif'))
        kv = torch.einsum('bhcn,bhdn->bhcd', k.double(), v.double())
        expected = kv.sum().item() + q.sum().item() * q.shape[2]
        assert rows[n]['sops'] == pytest.approx(expected / 2)
        assert rows[n]['macs'] == 0
    real = [r['name'] for r in rep['layers'] if r['macs'] > 0]
    assert real[0] == 'backbone.downsample1_1.encode_conv'
    assert len(real) == 5 and all(n.endswith('.Conv.pwconv2')
                                  for n in real[1:])
    assert rep['mean_events_per_neuron_step'] > rep['mean_firing_rate']
    assert 'events_per_neuron_step' in rep['rates']


class KnownSpikes(nn.Module):
    """A model whose spikes are known in advance: an encoding conv with tiny
    weights (1e-4) and biases (3, 3, 0, 0) gives inputs of about 3 and 0;
    the LIF (tau 2, threshold 1) fires at every step on the 3s (v = 1.5)
    and never on the 0s (v < 0.002): rate 0.5. A 1x1 conv reads the spikes, a second
    1x1 conv its real-valued output."""

    def __init__(self, T):
        super().__init__()
        from spikeformer_mm.models.neurons import build_neuron
        self.T = T
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        nn.init.constant_(self.enc.weight, 1e-4)
        self.enc.bias.data = torch.tensor([3., 3., 0., 0.])
        self.lif = build_neuron()
        self.spiking = nn.Conv2d(4, 6, 1, bias=False)
        self.real = nn.Conv2d(6, 5, 1, bias=False)
        nn.init.uniform_(self.spiking.weight, 0.5, 1.0)  # no output is 0

    def runs_once_for(self, img):
        # the encoder runs once, as the backbone runs it for a static
        # image: the meter asks (SpikingDownsample's interface)
        return {'enc': self.T}

    def forward(self, img):  # img [B, 3, H, W], static over T
        y = self.enc(img)
        self.lif.reset()
        s = self.lif(y.unsqueeze(0).expand(self.T, *y.shape))
        return self.real(self.spiking(s.flatten(0, 1)))


@pytest.mark.parametrize('basis', ['deployed', 'trained'])
def test_both_conventions_by_hand(basis):
    T, H, W = 2, 8, 8
    model = KnownSpikes(T).eval()
    meter = EnergyMeter(model, T, 'paper', basis)
    # two images: a batch of 2 at T=2 would pass for time-folded input if
    # the encoder did not say it runs once
    meter.run(lambda: model(torch.rand(2, 3, H, W)), 2)
    meter.remove()
    rep = meter.report()
    enc, spk, real = (layer(rep, n) for n in ('enc', 'spiking', 'real'))
    P = H * W
    enc_macs, spk_macs, real_macs = P * 27 * 4, P * 4 * 6, P * 6 * 5
    # the sources: the input, the neuron, the layer before
    assert (enc['source'], spk['source'], real['source']) == \
        ('input', 'lif', 'real-valued (spiking)')
    assert spk['firing_rate'] == 0.5 and enc['static_input']
    # measured: the static encoder once, as run (MACs), the spikes' ACs (2 of 4
    # channels fire at both steps, each reaching 6 weights), the real
    # layer's MACs at every step
    assert enc['measured']['macs'] == enc_macs
    assert spk['measured']['sops'] == T * P * 2 * 6
    assert real['measured']['macs'] == T * real_macs
    measured = (E_MAC_PJ * enc_macs + E_AC_PJ * T * P * 2 * 6 +
                E_MAC_PJ * T * real_macs) * 1e-9
    # paper: 4.6 pJ x encoder FLOPs once + 0.9 pJ x rate x T x FLOPs of
    # every other layer, the real-valued one at its input's non-zero
    # fraction (1: every output of the spiking conv is non-zero)
    paper = (E_MAC_PJ * enc_macs + E_AC_PJ * 0.5 * T * spk_macs +
             E_AC_PJ * 1.0 * T * real_macs) * 1e-9
    assert rep['conventions']['measured'] == pytest.approx(measured, rel=1e-3)
    assert rep['conventions']['paper'] == pytest.approx(paper, rel=1e-3)
    assert rep['energy_mJ'] == rep['conventions']['paper']
    assert rep['non_spike_input']['layers'] == ['real']
    share = E_MAC_PJ * T * real_macs * 1e-9 / measured
    assert rep['non_spike_input']['share']['measured'] == pytest.approx(share)


class WithDenseHead(nn.Module):
    """KnownSpikes as the backbone of a model whose head reads its real
    output: a dense head, as mmdet's FPN and RPN read ``SpikeToDense``."""

    def __init__(self, T):
        super().__init__()
        self.backbone = KnownSpikes(T)
        self.head = nn.Conv2d(5, 3, 1, bias=False)

    def forward(self, img):
        return self.head(self.backbone(img))


def test_dense_layers_are_macs_in_both_conventions():
    """The papers' formula covers the spiking model: a layer that reads real
    values outside the backbone (a dense neck or head) is 4.6 pJ per MAC in
    the paper convention too, at each step it runs; a real-valued layer
    inside the backbone (SepConv's second 1x1) keeps the papers' AC at its
    input's non-zero fraction. (Mutation tried: billing the dense head as
    accumulates at rate 1, as before, fails here.)"""
    T, H, W = 2, 8, 8
    model = WithDenseHead(T).eval()
    meter = EnergyMeter(model, T, 'paper')
    meter.run(lambda: model(torch.rand(1, 3, H, W)), 1)
    meter.remove()
    rep = meter.report()
    P = H * W
    enc_macs, spk_macs, real_macs, head_macs = (P * 27 * 4, P * 4 * 6,
                                                P * 6 * 5, P * 5 * 3)
    head, real = layer(rep, 'head'), layer(rep, 'backbone.real')
    assert head['dense'] and not real['dense']
    assert head['paper']['op'] == 'MAC' and real['paper']['op'] == 'AC'
    assert head['paper']['energy_mJ'] == pytest.approx(
        head['measured']['energy_mJ']) == pytest.approx(
        E_MAC_PJ * T * head_macs * 1e-9)
    paper = (E_MAC_PJ * enc_macs + E_AC_PJ * 0.5 * T * spk_macs +
             E_AC_PJ * 1.0 * T * real_macs + E_MAC_PJ * T * head_macs) * 1e-9
    assert rep['conventions']['paper'] == pytest.approx(paper, rel=1e-3)
    assert rep['dense']['layers'] == ['head']
    assert rep['dense']['share']['paper'] == pytest.approx(
        E_MAC_PJ * T * head_macs * 1e-9 / paper, rel=1e-3)
    assert rep['paper_rate'] == 'events_per_neuron_step'
    # an assumed rate keeps the dense head's MACs in the paper convention
    from spikeformer_mm.analysis.energy_meter import energy_at_rate
    at = energy_at_rate(rep, 0.25)
    assert at['paper'] == pytest.approx(
        (E_MAC_PJ * enc_macs + E_AC_PJ * 0.25 * T * (spk_macs + real_macs) +
         E_MAC_PJ * T * head_macs) * 1e-9, rel=1e-3)
    from spikeformer_mm.analysis.energy_meter import format_table
    assert 'MACs in both conventions' in format_table(rep)


def test_trained_flops_basis_counts_repconv_unfolded():
    """A RepConv deployed as one dense 3x3 conv: 9 Cin Cout MACs per
    position on the deployed basis, Cin C + 9 C + C Cout on the trained
    one (C = the hidden width = Cin)."""
    from spikeformer_mm.analysis.energy_meter import trained_macs
    from spikeformer_mm.models.layers import RepConv
    conv = RepConv(16, 24).eval().fuse_dense()
    geo = (conv.in_channels, conv.out_channels, conv.kernel_size,
           conv.groups, conv.trained_hidden_width())
    positions = 49
    deployed = positions * 9 * 16 * 24
    assert trained_macs(deployed, geo) == positions * (16 * 16 + 9 * 16 +
                                                      16 * 24)
    assert trained_macs(123.0, (16, 24, (1, 1), 1, None)) == 123.0


def test_15m_flops_match_an_independent_count():
    """The 15M at 224 px, deployed, T=1: the meter's FLOPs of every conv,
    linear and attention product against the formula H_out W_out Cout
    (Cin / groups) k_h k_w (2 N c^2 per head for the two products), from
    the layers' hyper-parameters and the map sizes alone."""
    from spikeformer_mm.deploy import switch_to_deploy
    from spikeformer_mm.models import MetaSpikeFormer
    from spikeformer_mm.models.layers import SpikingSelfAttention
    model = switch_to_deploy(MetaSpikeFormer(arch='15M', T=1))
    sizes = {}
    for n, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, SpikingSelfAttention)):
            m.register_forward_pre_hook(
                lambda m, a, n=n: sizes.setdefault(n, a[0].shape[-2:]) and
                None)
    meter = EnergyMeter(model, 1)
    meter.run(lambda: model(torch.rand(1, 3, 224, 224)), 1)
    meter.remove()
    rep = meter.report()
    total = 0
    for n, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            h, w = sizes[n]
            ho = (h + 2 * m.padding[0] - m.kernel_size[0]) // m.stride[0] + 1
            wo = (w + 2 * m.padding[1] - m.kernel_size[1]) // m.stride[1] + 1
            macs = ho * wo * m.out_channels * m.in_channels // m.groups * \
                m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, SpikingSelfAttention):
            h, w = sizes[n]
            c = m.dim // m.num_heads
            macs = m.num_heads * 2 * (h * w) * c * c
        else:
            continue
        assert layer(rep, n)['macs_per_step'] == macs, n
        total += macs
    # FLOPs: 2 per MAC, plus one per output of a biased layer (its bias)
    assert sum(r['macs_per_step'] for r in rep['layers']) == total
    assert 2 * total < rep['flops'] < 2.01 * total
    # the 15M's stem sees 224 px and the last stage a 7x7 grid
    assert sizes['downsample1_1.encode_conv'] == (224, 224)


def test_agrees_with_spikingjellys_simple_energy_model():
    """The demo classifier (deployed) through spikingjelly's own
    ``estimate_simple_energy`` (the same 45 nm costs): the synaptic
    operations on spikes are equal; its MACs are the measured convention's
    (the static image's encoder run once, as the backbone runs it) less
    those of layers whose real-valued input is all zeros (it takes them
    for silent spikes); its
    other accumulates are
    element-wise ones (membrane updates, biases, residual sums) that
    neither of this project's conventions bills, and its memory term is
    reported apart (``--memory``)."""
    from spikingjelly.activation_based import functional
    from spikingjelly.activation_based.op_counter import \
        estimate_simple_energy
    from spikeformer_mm.apis import init_model
    cfg = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
    from helpers import ROOT
    import os.path as osp
    model = init_model(osp.join(ROOT, cfg), deploy=True)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    rep = measure(model, x, 2, n_images=2)
    functional.reset_net(model)
    with torch.no_grad():
        sj = estimate_simple_energy(model, x)
    enc = layer(rep, 'backbone.downsample1_1.encode_conv')
    assert enc['static_input'] and enc['source'] == 'input'
    assert sj.counts['synop'] == pytest.approx(rep['sops'] * 2)
    # layers reading a layer's all-zero output (a silent SepConv's
    # depthwise conv, untrained weights): spikingjelly takes the zeros for
    # spikes (no MAC); this project bills the multiplies the layer runs
    zeros = sum(x['macs'] for x in rep['layers'] if x['source'].startswith(
        'real-valued') and x['firing_rate'] == 0)
    assert zeros > 0
    assert sj.counts['mac'] == pytest.approx((rep['macs'] - zeros) * 2)
    assert sj.counts['ac'] > sj.counts['synop']  # its element-wise adds
    assert sj.energy_mac_pj == pytest.approx(sj.counts['mac'] * E_MAC_PJ)


def test_energy_table_is_the_committed_run_record():
    """docs/energy.md's rows of the 2026-12-06 models and the README's
    figures are what the committed reports of energy.py give (the tool's
    JSON, docs/results/energy_demo_2026-12-06/), through the totals file:
    an edited figure, total or report fails here."""
    import os.path as osp

    from helpers import ROOT
    res = osp.join(ROOT, 'docs/results')
    rec = json.load(open(osp.join(res, 'energy_demo_2026-12-06.json')))
    doc = open(osp.join(ROOT, 'docs/energy.md')).read()
    readme = open(osp.join(ROOT, 'README.md')).read()
    rows = {'classification': 'demo classifier (digits val',
            'detection': 'demo Mask R-CNN, dense neck',
            'detection-spiking': 'demo Mask R-CNN, fully spiking',
            'segmentation': 'demo Semantic FPN'}
    for task, start in rows.items():
        r = rec['runs'][task]
        rep = json.load(open(osp.join(res, r['report'])))
        assert rep['conventions']['measured'] == r['measured_mJ']
        assert rep['conventions']['paper'] == r['paper_mJ']
        assert rep['dense']['share'] == r['dense_share']
        (line, ) = [ln for ln in doc.splitlines()
                    if ln.startswith(f'| {start}')]
        cells = [c.strip() for c in line.split('|')[4:-1]]
        assert cells == [
            f'{r["macs"] / 1e6:.2f} M', f'{r["sops"] / 1e6:.2f} M',
            f'{r["mean_firing_rate"]:.3f}', f'{r["measured_mJ"]:.4f}',
            f'{r["paper_mJ"]:.4f} / {r["paper_trained_basis_mJ"]:.4f}',
            f'{r["real_valued_share"]["measured"]:.0%}',
            f'{r["dense_share"]["paper"]:.0%}'], (task, cells)
    c, d, s = (rec['runs'][t] for t in ('classification', 'detection',
                                         'detection-spiking'))
    said = ' '.join(readme.split())
    assert (f'classifier {c["measured_mJ"]:.4f} / {c["paper_mJ"]:.4f} mJ, '
            f'dense Mask R-CNN {d["measured_mJ"]:.3f} / {d["paper_mJ"]:.3f} '
            f'mJ ({d["dense_share"]["measured"]:.0%} of it') in said
    assert (f'fully spiking Mask R-CNN {s["measured_mJ"]:.3f} / '
            f'{s["paper_mJ"]:.3f} mJ') in said


@pytest.mark.e2e  # four ImageNet-size models at 224 px, ~1 min
def test_imagenet_energy_curves_are_what_the_meter_gives():
    """docs/energy.md's ImageNet table (energy at assumed rates 0.15 and
    0.25, both conventions and FLOPs bases, and the rate at which the paper
    convention gives the paper's own figure) and the README's 15M T=1
    figures are what ``measure_energy`` computes now: the energy is linear
    in the assumed rate, so the implied rate is solved from the two
    points."""
    import os.path as osp

    from helpers import ROOT
    from spikeformer_mm.apis.energy import measure_energy
    doc = open(osp.join(ROOT, 'docs/energy.md')).read()
    readme = ' '.join(open(osp.join(ROOT, 'README.md')).read().split())
    paper_mj = {('55M', 1): 11.9, ('55M', 4): 52.4}  # the paper's table
    for arch in ('15M', '55M'):
        for T in (1, 4):
            rep, _ = measure_energy(
                f'configs/classification/metaspikeformer-{arch.lower()}'
                '_8xb64_in1k.py', random_images=True, img_size=(224, 224),
                num_images=1, cfg_options={'model.backbone.T': T},
                rows=None, convention='paper', assume_rates=(0.15, 0.25))
            a, b = rep['assumed_rates']
            cells = [f'{a["measured"]:.2f} / {b["measured"]:.2f}',
                     f'{a["paper_by_flops_basis"]["deployed"]:.2f} / '
                     f'{b["paper_by_flops_basis"]["deployed"]:.2f}',
                     f'{a["paper_by_flops_basis"]["trained"]:.2f} / '
                     f'{b["paper_by_flops_basis"]["trained"]:.2f}']
            if (arch, T) in paper_mj:
                mj = paper_mj[(arch, T)]

                def implied(basis):
                    y0 = a['paper_by_flops_basis'][basis]
                    y1 = b['paper_by_flops_basis'][basis]
                    return 0.15 + (mj - y0) * 0.1 / (y1 - y0)
                cells.append(f'{mj} mJ -> {implied("deployed"):.2f} / '
                             f'{implied("trained"):.2f}')
            else:
                cells.append('')
            (line, ) = [ln for ln in doc.splitlines() if ln.startswith(
                f'| {arch} | {T} | untrained (rates assumed) |')]
            assert [c.strip() for c in line.split('|')[4:-1]] == cells, \
                (arch, T, cells)
            if (arch, T) == ('15M', 1):
                assert (f'15M T=1 {a["measured"]:.1f} / {a["paper"]:.1f} '
                        'mJ, same conventions, at 0.15') in readme
