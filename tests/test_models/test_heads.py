import pytest
import torch
from mmpretrain.structures import DataSample

from spikeformer_mm.models import SpikingClsHead


def feats(T=2, B=3, C=8):
    torch.manual_seed(0)
    return (torch.rand(T, B, C, 2, 2) * 4, )


def test_head_is_stateless_across_batches_and_trains_twice():
    head = SpikingClsHead(num_classes=4, in_channels=8)
    x = feats()
    a = head(x)
    head((torch.rand(2, 3, 8, 2, 2) * 9, ))
    assert torch.equal(a, head(x))
    samples = [DataSample().set_gt_label(i % 4) for i in range(3)]
    for _ in range(2):  # a stale neuron state breaks the second backward
        head.loss(x, samples)['loss'].backward()


def test_head_math():
    """mean over T of Linear(LIF(avgpool(x))), by hand."""
    head = SpikingClsHead(num_classes=4, in_channels=8, with_kd=True).eval()
    x = feats()[0]
    pooled = x.flatten(3).mean(3)
    v, spikes = torch.zeros_like(pooled[0]), []
    for t in range(x.shape[0]):
        v = v + (pooled[t] - v) / 2
        s = (v >= 1).float()
        v = v * (1 - s)
        spikes.append(s)
    s = torch.stack(spikes)
    out = (head.head(s).mean(0) + head.head_kd(s).mean(0)) / 2
    assert torch.allclose(head((x, )), out)


def test_kd_loss_uses_teacher_labels():
    head = SpikingClsHead(num_classes=4, in_channels=8, with_kd=True,
                          kd_alpha=0.5)
    x = feats()
    samples = [DataSample().set_gt_label(0) for _ in range(3)]
    plain = head.loss(x, samples)
    for s in samples:
        s.set_field(torch.tensor([3]), 'teacher_label', field_type='metainfo')
    kd = head.loss(x, samples)
    assert 'loss_kd' in kd and kd['loss_kd'] != plain['loss_kd']


def test_head_errors():
    head = SpikingClsHead(num_classes=4, in_channels=8)
    with pytest.raises(ValueError, match='in_channels'):
        head((torch.rand(2, 3, 5, 2, 2), ))
    with pytest.raises(ValueError, match=r'\[T, B, C, H, W\]'):
        head((torch.rand(3, 8, 2, 2), ))
