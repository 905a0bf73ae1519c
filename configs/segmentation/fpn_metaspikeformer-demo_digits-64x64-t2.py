# The main job's segmenter: Semantic FPN (mmseg) on the small T=2
# Meta-SpikeFormer of the classification demo, whose weights initialise the
# backbone. Data: 64x64 canvases of 1-2 digits (28-40 px) with a label map
# (background + 10 digits) covering each digit's body, built on first use
# under data/digits_seg (4,000 train / 160 val canvases); the val canvases
# use only val-split digits.
#
# Why this data and recipe (measured on the 2-core CPU, 10-minute budget):
# - on canvases of 2-5 small digits with labels on the thin strokes only,
#   spiking and ReLU networks alike separated digits from background at once
#   but did not learn which digit within minutes (about 9.5 mIoU);
# - 96x96 canvases of 1-3 digits of 32-48 px, batch 4, 800 iterations:
#   43.6 mIoU (loss still falling; 0.64 s per step);
# - 64x64 canvases at batch 8: steps of tiny tensors cost mostly per-op
#   overhead on a CPU, so a smaller canvas at twice the batch sees 2.3x the
#   digits per second; digits of 28-40 px are about the scale the
#   classification demo learned (32 px). With 800 train canvases and 900
#   iterations: 72.9 or 58.8 mIoU depending on the classifier checkpoint
#   (overfitting: 9 epochs); 4,000 canvases: 66.7; and 1,000 iterations:
#   70.8 mIoU in 437 s (every class IoU >= 62).
# The backbone is the demos' own (configs/_base_/models/metaspikeformer-demo.py,
# attn_scale=1.0 for the small token grids).
_base_ = ['mmseg::_base_/models/fpn_r50.py',
          'mmseg::_base_/default_runtime.py',
          '../_base_/models/metaspikeformer-demo.py']

norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (64, 64)
pretrained = 'work_dirs/demo/classification/epoch_12.pth'
model = dict(
    data_preprocessor=dict(mean=[77.9] * 3, std=[82.6] * 3, bgr_to_rgb=False,
                           size=crop_size),
    pretrained=None,
    backbone=dict(
        _delete_=True,
        **_base_.backbone,
        out_indices=(0, 1, 2, 4),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    # FPN's in_channels: the backbone's (left out)
    neck=dict(
        _delete_=True,
        type='spikeformer_mm.SpikeToDense',
        reduction='mean',
        neck=dict(type='FPN', out_channels=32, num_outs=4)),
    # background is most of the pixels: unweighted, the head collapsed to
    # all-background within 100 iterations (9.6 mIoU, 96px data); weighting
    # it 0.1 keeps the digits in play (0.3 collapsed nearly as badly: 12.5)
    decode_head=dict(in_channels=[32] * 4, feature_strides=[2, 4, 8, 16],
                     channels=32, dropout_ratio=0., num_classes=11,
                     norm_cfg=norm_cfg,
                     loss_decode=dict(type='CrossEntropyLoss',
                                      use_sigmoid=False, loss_weight=1.0,
                                      class_weight=[0.1] + [1.0] * 10)),
)

dataset_type = 'spikeformer_mm.DigitsSegmentation'
data_root = 'data/digits_seg'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='spikeformer_mm.CheckSegSample', num_classes=11),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='spikeformer_mm.CheckSegSample', num_classes=11),
    dict(type='PackSegInputs'),
]
# num_workers=0: on 2 cores a loader process competes with the model
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                   weight_decay=0.005, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0.),
    clip_grad=dict(max_norm=10.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(type='PolyLR', eta_min=1e-5, power=1.0, begin=100, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500,
                    max_keep_ckpts=2, save_last=True),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = [dict(type='spikeformer_mm.NaNGuardHook')]
randomness = dict(seed=0)
