"""RoIAlign as two matrix products (``SeparableRoIAlign``) against
torchvision's and mmcv's kernels, and the RoI extractor that builds it."""
import pytest
import torch


def random_rois(n_images, n, size, seed=0):
    """RoIs in an unsorted image order, some empty, some partly or wholly
    outside a map of ``size`` pixels (fp64)."""
    g = torch.Generator().manual_seed(seed)
    b = torch.randint(0, n_images, (n, ), generator=g).double()
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * (size + 40) - 20
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * size * 0.6
    wh[:3] = 0  # empty boxes
    xy[3] = torch.tensor([size + 30.0, -60.0])  # wholly outside
    return torch.cat([b[:, None], xy, xy + wh], 1)


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 1, 2])
def test_separable_roi_align_is_torchvisions(aligned, sampling_ratio):
    """Forward and backward equal ``torchvision.ops.roi_align`` (fp64) for
    both box conventions, fixed and adaptive sampling, a non-square output,
    RoIs in any image order, empty and outside boxes."""
    from torchvision.ops import roi_align

    from spikeformer_mm.models.heads.roi_extractor import SeparableRoIAlign
    x = torch.randn(3, 5, 13, 17, dtype=torch.float64, requires_grad=True)
    rois = random_rois(3, 40, 60)
    layer = SeparableRoIAlign((7, 6), 0.25, sampling_ratio, aligned)
    got = layer(x, rois)
    want = roi_align(x, rois, (7, 6), 0.25, sampling_ratio, aligned)
    assert got.shape == want.shape == (40, 5, 7, 6)
    assert got.is_contiguous()
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    assert want[3].abs().sum() == 0  # the box wholly outside
    grad = torch.randn_like(want)
    (g_got, ) = torch.autograd.grad(got, x, grad)
    (g_want, ) = torch.autograd.grad(want, x, grad)
    torch.testing.assert_close(g_got, g_want, rtol=0, atol=1e-12)


def test_separable_roi_align_is_mmcvs_and_takes_no_roi():
    """Equal to mmcv's own CPU kernel (fp32, its defaults: aligned, the
    adaptive grid); no RoI gives ``[0, C, h, w]`` and a zero gradient."""
    from mmcv.ops import RoIAlign

    from spikeformer_mm.models.heads.roi_extractor import SeparableRoIAlign
    x = torch.randn(2, 4, 24, 24)
    rois = random_rois(2, 30, 96, seed=1).float()
    torch.testing.assert_close(SeparableRoIAlign(7, 0.25)(x, rois),
                               RoIAlign(7, 0.25)(x, rois),
                               rtol=1e-5, atol=1e-5)
    x.requires_grad_(True)
    out = SeparableRoIAlign(7, 0.25)(x, rois[:0])
    assert out.shape == (0, 4, 7, 7)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() == 0


def test_separable_roi_align_refuses_bad_arguments_by_name():
    from spikeformer_mm.models.heads.roi_extractor import SeparableRoIAlign
    with pytest.raises(ValueError, match='output_size'):
        SeparableRoIAlign((7, 0))
    with pytest.raises(ValueError, match='sampling_ratio'):
        SeparableRoIAlign(7, sampling_ratio=-1)
    with pytest.raises(ValueError, match=r'rois \[R, 5\]'):
        SeparableRoIAlign(7)(torch.zeros(1, 2, 8, 8), torch.zeros(3, 4))


def test_extractor_builds_this_projects_layer_and_mmcvs():
    """``spikeformer_mm.SingleRoIExtractor`` with ``roi_layer.type =
    'spikeformer_mm.SeparableRoIAlign'`` pools as mmdet's extractor with
    mmcv's RoIAlign (torchvision's kernel) over several levels; an mmcv
    name still builds mmcv's op; an unknown name is refused by name."""
    from mmcv.ops import RoIAlign
    from mmengine.registry import init_default_scope

    from spikeformer_mm.models.heads.roi_extractor import SeparableRoIAlign
    from spikeformer_mm.registry import MODELS
    init_default_scope('mmdet')
    common = dict(out_channels=4, featmap_strides=[4, 8])
    ours = MODELS.build(dict(
        type='spikeformer_mm.SingleRoIExtractor', **common,
        roi_layer=dict(type='spikeformer_mm.SeparableRoIAlign',
                       output_size=7, sampling_ratio=1)))
    assert all(isinstance(m, SeparableRoIAlign) for m in ours.roi_layers)
    assert [m.spatial_scale for m in ours.roi_layers] == [0.25, 0.125]
    theirs = MODELS.build(dict(
        type='SingleRoIExtractor', **common,
        roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=1,
                       use_torchvision=True)))
    feats = (torch.randn(2, 4, 24, 24), torch.randn(2, 4, 12, 12))
    b = torch.tensor([0., 0., 1., 1., 0.])[:, None]
    boxes = torch.tensor([[4., 4., 30., 36.], [10., 2., 90., 80.],
                          [0., 0., 20., 20.], [50., 40., 95., 95.],
                          [30., 30., 31., 32.]])
    rois = torch.cat([b, boxes], 1)  # small ones on level 0, large on 1
    torch.testing.assert_close(ours(feats, rois), theirs(feats, rois))
    mmcv_built = MODELS.build(dict(
        type='spikeformer_mm.SingleRoIExtractor', **common,
        roi_layer=dict(type='RoIAlign', output_size=7)))
    assert isinstance(mmcv_built.roi_layers[0], RoIAlign)
    with pytest.raises(KeyError, match='NoSuchAlign'):
        MODELS.build(dict(type='spikeformer_mm.SingleRoIExtractor',
                          **common, roi_layer=dict(type='NoSuchAlign')))
