"""Fidelity to the paper's official code (vectors in tests/data/reference)."""
import pytest
import torch

from spikeformer_mm.checkpoint import load_checkpoint_file
from spikeformer_mm.models import MetaSpikeFormer


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def backbone_from(ckpt, **kwargs):
    meta = ckpt['meta']
    m = MetaSpikeFormer(arch=meta['arch'], **kwargs)
    sd = {k[len('backbone.'):]: v for k, v in ckpt['state_dict'].items()
          if k.startswith('backbone.')}
    m.load_state_dict(sd, strict=True)
    return m.double().eval()


def test_taps_match_reference(converted_tiny, vectors):
    ckpt = load_checkpoint_file(converted_tiny)  # weights_only=True
    m = backbone_from(ckpt, T=2, out_indices=(0, 1, 2, 3, 4))
    with torch.no_grad():
        outs = m(vectors['input'])
    refs = [vectors['tap_stride2_T2']] + list(vectors['taps_T2'])
    for i, (o, r) in enumerate(zip(outs, refs)):
        assert o.shape == r.shape, i
        assert rel_err(o, r) < 1e-9, i


@pytest.mark.parametrize('T', [1, 2, 4])
def test_classifier_logits_match_reference(converted_tiny, vectors, T):
    from mmengine.registry import MODELS
    ckpt = load_checkpoint_file(converted_tiny)
    meta = ckpt['meta']
    model = MODELS.build(dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(type='spikeformer_mm.MetaSpikeFormer',
                      arch=meta['arch'], T=T),
        head=dict(type='spikeformer_mm.SpikingClsHead',
                  num_classes=meta['num_classes'],
                  in_channels=meta['arch']['embed_dims'][-1], with_kd=True)))
    model.load_state_dict(ckpt['state_dict'], strict=True)
    model = model.double().eval()
    with torch.no_grad():
        logits = model(vectors['input'], mode='tensor')
    ref = vectors[f'logits_T{T}']
    assert rel_err(logits, ref) < 1e-9
    # and it is not trivially so: a wrong T gives other logits
    other = vectors['logits_T1' if T != 1 else 'logits_T4']
    assert rel_err(logits, other) > 1e-3
