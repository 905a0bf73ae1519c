"""Fidelity to E-SpikeFormer's own code (Spike-driven Transformer V3,
vectors in tests/data/reference made by running it): its checkpoints,
converted by tools/model_converters/sdtv3_to_mm.py, give V3's logits and
taps in float64 to 1e-9, for both model families; the converter knows
every released size from its tensors; the MultiSpike neuron is V3's
quantiser in values and gradients."""
import argparse
import json
import os.path as osp

import pytest
import torch

from helpers import run_py
from spikeformer_mm.checkpoint import load_checkpoint_file

FAMILIES = {  # reference name: (backbone type, head neuron)
    'base-tiny': 'ESpikeFormer',
    'large-tiny': 'ESpikeFormerLarge',
}


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.fixture(scope='module')
def converted(reference_dir, tmp_path_factory):
    """Each tiny V3 checkpoint converted by the tool."""
    out = {}
    for name in FAMILIES:
        dst = tmp_path_factory.mktemp('v3') / f'{name}.pth'
        r = run_py('tools/model_converters/sdtv3_to_mm.py',
                   osp.join(reference_dir,
                            f'sdtv3_{name}_seed0_official.pth'), str(dst))
        assert FAMILIES[name] in r.stdout and 'no released size' in \
            r.stdout, r.stdout
        out[name] = load_checkpoint_file(str(dst))
    return out


def classifier(ckpt, **backbone):
    from mmengine.registry import MODELS

    from spikeformer_mm.models.backbones import e_spikeformer as v3
    meta = ckpt['meta']
    large = meta['family'] == 'ESpikeFormerLarge'
    model = MODELS.build(dict(
        type='ImageClassifier', _scope_='mmpretrain',
        backbone=dict(type=f'spikeformer_mm.{meta["family"]}',
                      arch=meta['arch'], **backbone),
        head=dict(type='spikeformer_mm.SpikingClsHead',
                  num_classes=meta['num_classes'],
                  in_channels=meta['arch']['embed_dims'][-1],
                  with_kd=meta['with_kd'],
                  head_input='pooled' if large else 'spikes',
                  neuron_cfg=v3.V3_LARGE_HEAD_NEURON if large
                  else v3.V3_BASE_HEAD_NEURON)))
    model.load_state_dict(ckpt['state_dict'], strict=True)
    return model.double().eval()


@pytest.mark.parametrize('name', list(FAMILIES))
def test_logits_and_taps_match_v3(converted, reference_dir, name):
    vec = torch.load(osp.join(reference_dir, f'sdtv3_{name}_seed0_vectors.pt'),
                     weights_only=True)
    ck = converted[name]
    taps = tuple(range(1, 5 if name.startswith('base') else 4))
    model = classifier(ck, out_indices=taps)
    with torch.no_grad():
        feats = model.extract_feat(vec['input'])
        logits = model(vec['input'], mode='tensor')
    assert rel_err(logits, vec['logits']) < 1e-9
    assert len(feats) == len(vec['taps'])
    for i, (ours, ref) in enumerate(zip(feats, vec['taps'])):
        # V3's base taps are [B, C, H, W] (T=1), its large last tap tokens
        # [T, B, C, N]; ours are [T, B, C, H, W]
        ours = ours[0] if ref.dim() == 4 and ref.shape[0] != 1 else ours
        assert ours.reshape(ref.shape).shape == ref.shape, i
        assert rel_err(ours.reshape(ref.shape), ref) < 1e-9, i
    # not trivially so: another D (the "1x8" quantiser) gives other logits
    other = classifier(ck, neuron_cfg=dict(max_spike_count=8))
    with torch.no_grad():
        assert rel_err(other(vec['input'], mode='tensor'),
                       vec['logits']) > 1e-3


def _fake_state_dict(keys_file):
    """A state_dict of meta tensors with the keys and shapes of a released
    V3 checkpoint (tests/data/reference/sdtv3_*_keys.json)."""
    keys = json.load(open(keys_file))['keys']
    return {k: torch.empty(shape, device='meta') for k, shape in keys.items()}


@pytest.mark.parametrize('name,family,size', [
    ('base-s', 'ESpikeFormer', '5M'), ('base-m', 'ESpikeFormer', '10M'),
    ('base-l', 'ESpikeFormer', '19M'),
    ('large-512', 'ESpikeFormerLarge', '83M'),
    ('large-768', 'ESpikeFormerLarge', '171M')])
def test_every_released_size_is_named_and_converts(reference_dir, name,
                                                   family, size):
    """From the key lists of the released files: family and size named
    from the tensors (the 83M is the rep_conv variant, V3 #9), every key
    mapped onto our model, shapes equal."""
    from spikeformer_mm.checkpoint import convert_v3
    sd = _fake_state_dict(osp.join(reference_dir, f'sdtv3_{name}_keys.json'))
    out = convert_v3({'model': sd, 'args': argparse.Namespace()},
                     max_spike_count=8)
    meta = out['meta']
    assert (meta['family'], meta['size'], meta['num_classes']) == \
        (family, size, 1000)
    assert meta['max_spike_count'] == 8
    assert len(out['state_dict']) == len(sd)


def test_files_of_no_known_family_are_refused(reference_dir):
    from spikeformer_mm.checkpoint import convert_v3
    sd = _fake_state_dict(osp.join(reference_dir, 'sdtv3_base-l_keys.json'))
    with pytest.raises(ValueError,
                       match=r'always have 6 \+ 2 .* holds \[5, 2\]'):
        convert_v3({k: v for k, v in sd.items()
                    if not k.startswith('block3.5.')})
    v2 = _fake_state_dict(osp.join(reference_dir, 'sdtv2_55M_kd_keys.json'))
    with pytest.raises(ValueError, match='not an E-SpikeFormer.*of a known '
                                         'family.*sdtv2_to_mm'):
        convert_v3(v2)
    large = _fake_state_dict(osp.join(reference_dir,
                                      'sdtv3_large-512_keys.json'))
    del large['block3.0.rep_conv.conv2.1.bias']
    with pytest.raises(ValueError, match=r'missing keys.*rep_conv\.conv2'
                                         r'\.1\.bias'):
        convert_v3(large)


def _v3_base_quant(x, D=4):
    """V3's base ``Quant`` (Model_Base/models.py), restated as the oracle."""
    return torch.round(torch.clamp(x, 0, D))


@pytest.mark.parametrize('large', [False, True])
def test_multispike_is_v3s_quantiser(large):
    """Values and gradients of V3's two quantisers (base: torch.round,
    gradient where 0 <= x <= D; large: floor(x + 0.5), gradient where
    0 < x < D), boundaries and ties included, divided by norm."""
    from spikeformer_mm.models.backbones import e_spikeformer as v3
    from spikeformer_mm.models.neurons import build_neuron
    cfg = v3.V3_LARGE_NEURON if large else v3.V3_BASE_NEURON
    n = build_neuron(cfg)
    x = torch.tensor([-1., 0., 0.3, 0.5, 1.5, 2.5, 3.49, 4., 4.2, 7.],
                     dtype=torch.float64).view(2, 5).requires_grad_()
    y = n(x)
    g = torch.arange(10, dtype=torch.float64).view(2, 5) + 1
    y.backward(g)
    d = x.detach()
    if large:  # Model_Large/spikformer.py's multispike
        want = torch.floor(torch.clamp(d, 0, 4) + 0.5) / 4
        grad = g * ((d > 0) & (d < 4)).double() / 4
    else:
        want = _v3_base_quant(d) / 4
        grad = g * ((d >= 0) & (d <= 4)).double() / 4
    assert torch.equal(y.detach(), want)
    assert torch.equal(x.grad, grad)
    # the two files differ exactly at the ties and the window's ends
    other = build_neuron(v3.V3_BASE_NEURON if large else v3.V3_LARGE_NEURON)
    assert not torch.equal(other(d), want)
    with pytest.raises(ValueError, match="rounding must be one of"):
        build_neuron(dict(cfg, rounding='up'))
