"""The fully spiking detector (the paper's detection design): a spiking FPN
and spiking RPN / RoI heads that keep the time axis until the class scores,
box deltas and mask logits."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import InstanceData

from helpers import ROOT

SPIKING_CFG = osp.join(
    ROOT, 'configs/detection/mask-rcnn_metaspikeformer-demo_spikefpn_digits-t2.py')


def det_sample(h, w, boxes=None, labels=None):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    s = DetDataSample()
    s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w),
                        batch_input_shape=(h, w), pad_shape=(h, w),
                        scale_factor=(1.0, 1.0)))
    if boxes is not None:
        gt = InstanceData()
        gt.bboxes = torch.tensor(boxes, dtype=torch.float32)
        gt.labels = torch.tensor(labels)
        masks = torch.zeros(len(boxes), h, w, dtype=torch.uint8)
        for m, (x1, y1, x2, y2) in zip(masks, boxes):
            m[int(y1):int(y2), int(x1):int(x2)] = 1
        gt.masks = BitmapMasks(masks.numpy(), h, w)
        s.gt_instances = gt
    return s


def build_detector(T, **overrides):
    cfg = Config.fromfile(SPIKING_CFG)
    cfg.model.backbone.T = T
    cfg.model.backbone.init_cfg = None
    # norm_eval keeps a trained classifier's BatchNorm statistics; from
    # random weights there are none to keep, and ``calibrated`` sets them
    cfg.model.backbone.norm_eval = False
    for k, v in overrides.items():
        cfg.model[k] = v
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def batch(model, n=2, size=64):
    torch.manual_seed(0)
    imgs = [(torch.rand(3, size, size) * 255).to(torch.uint8)
            for _ in range(n)]
    samples = [det_sample(size, size, [[8, 8, 40, 44], [30, 20, 60, 50]],
                          [1, 7]) for _ in range(n)]
    return model.data_preprocessor(dict(inputs=imgs, data_samples=samples),
                                   True)


def calibrated(model, data):
    """``model`` in eval mode with its BatchNorm statistics those of
    ``data`` (a fresh model's running statistics leave the neck and heads
    silent: their neurons fire on normalised inputs)."""
    from torch.nn.modules.batchnorm import _BatchNorm
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative: one batch sets them
    model.train()
    with torch.no_grad():
        model(data['inputs'], data['data_samples'], mode='loss')
    return model.eval()


def test_modules_are_mmdets_with_time():
    from mmdet.models.dense_heads import RPNHead
    from mmdet.models.necks import FPN
    from mmdet.models.roi_heads import StandardRoIHead
    from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
    from mmdet.models.roi_heads.mask_heads import FCNMaskHead
    m = build_detector(2)
    assert isinstance(m.neck, FPN) and isinstance(m.rpn_head, RPNHead)
    assert isinstance(m.roi_head, StandardRoIHead)
    assert isinstance(m.roi_head.bbox_head, Shared2FCBBoxHead)
    assert isinstance(m.roi_head.mask_head, FCNMaskHead)
    # the FPN took the backbone's channels (taps 1-4 of the demo backbone)
    assert m.neck.in_channels == list(m.backbone.out_channels)


@pytest.mark.parametrize('T', [1, 2])
def test_shapes_through_every_module(T):
    model = build_detector(T)
    data = batch(model)
    calibrated(model, data)
    B = 2
    with torch.no_grad():
        taps = model.backbone(data['inputs'])
        feats = model.neck(taps)
        assert [tuple(f.shape[:3]) for f in feats] == [(T, B, 64)] * 5
        assert [f.shape[-1] for f in feats] == [16, 8, 4, 4, 2]
        cls, reg = model.rpn_head(feats)
        A = model.rpn_head.num_base_priors
        assert [tuple(c.shape) for c in cls] == [
            (B, A, f.shape[-2], f.shape[-1]) for f in feats]
        assert [r.shape[1] for r in reg] == [4 * A] * 5
        # RoI head: per-step RoI features, time averaged at the outputs
        rois = torch.tensor([[0, 4., 4., 40., 40.], [1, 10., 8., 50., 60.],
                             [1, 0., 0., 63., 63.]])
        head = model.roi_head
        levels = head._image_first(feats)
        out = head._bbox_forward(levels, rois)
        assert out['bbox_feats'].shape == (T, 3, 64, 7, 7)
        assert out['cls_score'].shape == (3, 11)
        assert out['bbox_pred'].shape == (3, 40)
        masks = head._mask_forward(levels, rois)
        assert masks['mask_feats'].shape == (T, 3, 64, 14, 14)
        assert masks['mask_preds'].shape == (3, 10, 28, 28)
        preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == B and 'masks' in preds[0].pred_instances


def test_time_axis_kept_until_the_averaging_point():
    """Each predictor (RPN objectness, box classifier, mask logits) runs on
    every time step, and the head's output is the mean of its T outputs;
    the RoI features of step t are pooled from step t of the FPN."""
    T = 2
    model = build_detector(T)
    data = batch(model)
    calibrated(model, data)
    seen = {}

    def keep(name):
        def hook(m, args, out):
            seen.setdefault(name, []).append((args[0].shape, out))
        return hook

    rh = model.roi_head
    for name, mod in [('rpn_cls', model.rpn_head.rpn_cls),
                      ('fc_cls', rh.bbox_head.fc_cls),
                      ('conv_logits', rh.mask_head.conv_logits.layer)]:
        mod.register_forward_hook(keep(name))
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        cls, _ = model.rpn_head(feats)
        rois = torch.tensor([[0, 4., 4., 40., 40.], [1, 10., 8., 50., 60.]])
        levels = rh._image_first(feats)  # what mmdet's code hands on
        bbox = rh._bbox_forward(levels, rois)
        mask = rh._mask_forward(levels, rois)
    B, N = 2, 2
    shape, out = seen['rpn_cls'][0]  # level 0
    assert shape[0] == T * B
    assert torch.allclose(cls[0], out.reshape(T, B, *out.shape[1:]).mean(0))
    shape, out = seen['fc_cls'][0]
    assert tuple(shape[:2]) == (T, N)
    assert torch.allclose(bbox['cls_score'], out.mean(0))
    shape, out = seen['conv_logits'][0]
    assert shape[0] == T * N
    assert torch.allclose(mask['mask_preds'],
                          out.reshape(T, N, *out.shape[1:]).mean(0))
    # the two steps differ (spikes of different steps), so nothing was
    # averaged before: step t's RoI features come from step t's level
    assert not torch.equal(bbox['bbox_feats'][0], bbox['bbox_feats'][1])
    ext = rh.bbox_roi_extractor
    step1 = ext(tuple(f[1] for f in feats)[:ext.num_inputs], rois)
    assert torch.allclose(bbox['bbox_feats'][1], step1)


def test_neuron_state_is_reset_per_batch():
    model = build_detector(2)
    data = batch(model)
    calibrated(model, data)
    fired = []
    model.rpn_head.pred_lif.register_forward_hook(
        lambda m, a, out: fired.append(float(out.sum())))
    with torch.no_grad():
        a = model(data['inputs'], data['data_samples'], mode='tensor')
        b = model(data['inputs'], data['data_samples'], mode='tensor')
    flat = [(x, y) for xs, ys in zip(a, b) for x, y in
            (zip(xs, ys) if isinstance(xs, (tuple, list)) else [(xs, ys)])]
    assert sum(fired) > 0  # not trivially equal: the RPN fires
    assert flat and all(torch.equal(x, y) for x, y in flat)


def test_gradients_reach_the_backbone():
    model = build_detector(2).train()
    data = batch(model)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'} <= \
        set(losses)
    total = sum(v.sum() if torch.is_tensor(v) else sum(v)
                for k, v in losses.items() if 'loss' in k)
    total.backward()
    for part in ('backbone', 'neck', 'rpn_head', 'roi_head'):
        grads = [p.grad for p in getattr(model, part).parameters()
                 if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), part


def test_errors_name_the_expected_layout():
    from spikeformer_mm.models import SpikingFPN, SpikingRPNHead
    with pytest.raises(ValueError, match=r'expected \[T, B, C, H, W\]'):
        SpikingFPN(in_channels=[4], out_channels=4, num_outs=1)(
            (torch.rand(1, 4, 8, 8), ))
    head = SpikingRPNHead(
        in_channels=4,
        anchor_generator=dict(type='AnchorGenerator', scales=[8],
                              ratios=[1.0], strides=[4]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder'))
    with pytest.raises(ValueError, match='SpikingFPN'):
        head.forward_single(torch.rand(1, 4, 8, 8))


def test_energy_counts_the_spiking_neck_and_heads_as_sops():
    from spikeformer_mm.analysis.energy_meter import EnergyMeter
    model = build_detector(2)
    data = batch(model, n=1)
    calibrated(model, data)
    meter = EnergyMeter(model, 2)
    meter.run(lambda: model(data['inputs'], data['data_samples'],
                            mode='predict'), 1)
    rep = meter.report()
    layers = {x['name']: x for x in rep['layers']}
    spiking = [n for n in layers
               if n.startswith(('neck.', 'rpn_head.', 'roi_head.'))
               and not n.endswith(('fc_cls', 'fc_reg'))]
    # 4 lateral + 4 output convs, the RPN conv and its 2 predictors, 2
    # FCs, 2 mask convs, the deconv and the logits
    assert len(spiking) == 8 + 3 + 2 + 4, spiking
    assert any('upsample' in n for n in spiking)  # the deconv is counted
    assert all(layers[n]['input'] == 'spikes' and layers[n]['macs'] == 0
               for n in spiking), [
        (n, layers[n]['input']) for n in spiking
        if layers[n]['input'] != 'spikes']
    # at their measured rates: SOPs = rate x dense MACs (over all steps)
    # for the 1x1 convs and linears (spikingjelly's FLOPs are 2 per MAC plus
    # one per output for the bias: at most 1/(2 C_in) = 3% here; padded 3x3
    # convs touch fewer weights at the borders)
    for n in spiking:
        x = layers[n]
        assert 0 < x['firing_rate'] < 1, n
        if 'lateral' in n or 'fc' in n or 'rpn_cls' in n:
            assert x['sops'] == pytest.approx(
                x['firing_rate'] * x['flops'] / 2, rel=0.035), n
    # the box predictors read real values, as in the paper
    assert layers['roi_head.bbox_head.fc_cls']['input'] == 'real'


def test_t_travels_with_the_tensors_not_in_module_state():
    """Two detectors' heads and necks hold no T: one module run on inputs
    with another number of steps gives that many steps (the time axis is
    read from the inputs' shape at every call)."""
    from spikeformer_mm.models.layers import SpikeDriven
    model = build_detector(2)
    assert not any(hasattr(m, 'time_folded') or hasattr(m, '_T')
                   for m in model.modules())
    neck = model.neck
    with torch.no_grad():
        for T in (1, 3):
            taps = [torch.rand(T, 1, c, 8 // 2 ** min(i, 1), 8 // 2 **
                               min(i, 1)) for i, c in
                    enumerate(neck.in_channels)]
            outs = neck(taps)
            assert all(o.shape[0] == T for o in outs)
    conv = SpikeDriven(torch.nn.Conv2d(4, 4, 1))
    assert conv(torch.rand(3, 2, 4, 5, 5)).shape == (3, 2, 4, 5, 5)


def test_deployed_spiking_detector_equals_the_trained_one():
    """switch_to_deploy folds the BatchNorms of the spiking neck and heads
    (and the backbone's) into their layers: no BatchNorm is left, and the
    features, RPN outputs, RoI heads' outputs and detections equal the
    unfolded model's."""
    import copy

    from torch.nn.modules.batchnorm import _BatchNorm

    from spikeformer_mm.deploy import switch_to_deploy
    model = build_detector(2)
    data = batch(model)
    calibrated(model, data)
    g = torch.Generator().manual_seed(0)
    for m in model.modules():  # BN affines away from identity
        if isinstance(m, _BatchNorm):
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + .5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * .3)
    deployed = switch_to_deploy(copy.deepcopy(model))
    assert not any(isinstance(m, _BatchNorm) for m in deployed.modules())
    assert sum(isinstance(m, _BatchNorm) for m in model.modules()) > 20
    rois = torch.tensor([[0, 4., 4., 40., 40.], [1, 10., 8., 50., 60.]])
    outs = []
    with torch.no_grad():
        for m in (model, deployed):
            feats = m.extract_feat(data['inputs'])
            cls, reg = m.rpn_head(feats)
            levels = m.roi_head._image_first(feats)
            bbox = m.roi_head._bbox_forward(levels, rois)
            mask = m.roi_head._mask_forward(levels, rois)
            outs.append([*feats, *cls, *reg, bbox['cls_score'],
                         bbox['bbox_pred'], mask['mask_preds']])
    firing = [f for f in outs[0][:5] if f.abs().sum() > 0]
    assert firing, 'the calibrated neck fires'
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4), \
            (a - b).abs().max()
