# The R-CNN skeleton of the Meta-SpikeFormer detectors (COCO's Mask R-CNN,
# Gen1's Faster R-CNN), written once, on the dense skeleton
# (./metaspikeformer-dense.py). The backbone hands its taps 1-4
# (strides 4, 8, 16, 16: the paper's last downsampling has stride 1) as
# [T, B, C, H, W] spikes/membranes to SpikeToDense, which averages over T
# (rate decoding), then to mmdet's FPN. The paper's code declared strides
# [4, 8, 16, 32] for these maps; here the anchors and RoI extractors use
# the true ones, and FPN's extra max-pooled level gives stride 32.
#
# A detector config takes `rcnn` into its model and adds what differs:
#   model = dict(_base_.rcnn, roi_head=dict(_base_.rcnn.roi_head, ...))
# and trains with `adamw` (the detectors' AdamW, replacing mmdet's SGD).
_base_ = ['./metaspikeformer-dense.py']
out_indices = (1, 2, 3, 4)
strides = [4, 8, 16, 16]  # of taps 1-4
rcnn = dict(
    backbone=dict(_base_.dense_backbone, out_indices=out_indices),
    neck=dict(
        _base_.spike_to_dense,
        in_channels=[_base_.tap_channels[_base_.arch][i]
                     for i in out_indices],
        neck=dict(type='FPN', out_channels=256, num_outs=5)),
    rpn_head=dict(anchor_generator=dict(strides=strides + [32])),
    roi_head=dict(bbox_roi_extractor=dict(featmap_strides=strides)),
)
adamw = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=0.05),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=10.0, norm_type=2),
)
