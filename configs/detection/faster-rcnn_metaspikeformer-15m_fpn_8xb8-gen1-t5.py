# Event-camera detection on Prophesee's Gen1 (cars, pedestrians) with
# Meta-SpikeFormer 15M: Faster R-CNN (mmdet), the backbone fed T=5 bins of
# 50 ms of ON/OFF event counts (T is real time), its taps 1-4 averaged
# over T (SpikeToDense) into mmdet's FPN, as the COCO configs do.
#
# Why Faster R-CNN: Gen1 labels are boxes only, so the COCO configs'
# Mask R-CNN without its mask head; it keeps this toolbox's spiking RPN and
# RoI heads for the fully spiking variant (*_spikefpn_*), which a
# one-stage head (RetinaNet, FCOS, YOLOX) would need written anew.
# The backbone starts from the ImageNet classifier but for its first conv,
# which sees 2 event channels (partial_load_keys).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    '../_base_/datasets/gen1-detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    '../_base_/runtimes/detection.py',
    '../_base_/models/metaspikeformer.py',
]
arch = '15M'
out_indices = (1, 2, 3, 4)
strides = [4, 8, 16, 16]  # of taps 1-4 (the paper's stride-1 downsample4)
pretrained = 'work_dirs/metaspikeformer-15m_8xb64_in1k/epoch_200.pth'
model = dict(
    data_preprocessor=dict(
        _delete_=True, type='spikeformer_mm.EventDetDataPreprocessor',
        n_time_bins=_base_.T, pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='spikeformer_mm.MetaSpikeFormer',
        arch=arch,
        T=_base_.T,
        in_channels=2,
        out_indices=out_indices,
        partial_load_keys=['downsample1_1.encode_conv.weight'],
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='spikeformer_mm.SpikeToDense',
        reduction='mean',
        in_channels=[_base_.tap_channels[arch][i] for i in out_indices],
        neck=dict(type='FPN', out_channels=256, num_outs=5)),
    rpn_head=dict(anchor_generator=dict(strides=strides + [32])),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=strides),
        bbox_head=dict(num_classes=2)),
)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=0.05),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=10.0, norm_type=2),
)
auto_scale_lr = dict(enable=False, base_batch_size=64)
