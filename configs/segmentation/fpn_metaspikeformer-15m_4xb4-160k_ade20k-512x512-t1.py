# Semantic FPN with Meta-SpikeFormer 15M (T=1) on ADE20K (paper, Sec. 5.3),
# backbone initialised from this project's ImageNet classifier.
#
# Taps as the paper's segmentation code: after ConvBlock1_1 (stride 2),
# ConvBlock1_2 (4), ConvBlock2_2 (8) and block4 (16): out_indices (0, 1, 2, 4).
# SpikeToDense averages each over T (as the paper did) before mmseg's FPN
# (the dense skeleton: ../_base_/models/metaspikeformer-dense.py).
# Recipe: 512x512 crops, AdamW lr 1e-3, weight decay 0.005, 1500 linear
# warm-up iterations, then poly, 160k iterations.
_base_ = ['mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py',
          '../_base_/safety.py', '../_base_/models/metaspikeformer-dense.py']
out_indices = (0, 1, 2, 4)

# BN, not SyncBN: works in one process; for multi-GPU runs you may set
# norm_cfg=dict(type='SyncBN', requires_grad=True) in decode_head.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(_base_.dense_backbone, out_indices=out_indices),
    neck=dict(
        _base_.spike_to_dense,
        in_channels=[_base_.tap_channels[_base_.arch][i]
                     for i in out_indices],
        neck=dict(type='FPN', out_channels=256, num_outs=4)),
    decode_head=dict(feature_strides=[2, 4, 8, 16], norm_cfg=norm_cfg),
)
# Labels outside the 150 classes (and not 255, ignored) are refused, naming
# the file: mmseg's IoUMetric would drop them from the scores silently.
check = dict(type='spikeformer_mm.CheckSegSample', num_classes=150)
train_pipeline = [t for step in _base_.train_pipeline for t in (
    [step, check] if step['type'] == 'LoadAnnotations' else [step])]
test_pipeline = [t for step in _base_.test_pipeline for t in (
    [step, check] if step['type'] == 'LoadAnnotations' else [step])]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.005),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0.),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', eta_min=0., power=1.0, begin=1500, end=160000,
         by_epoch=False),
]
