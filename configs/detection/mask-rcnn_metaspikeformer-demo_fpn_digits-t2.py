# The main job's detector: Mask R-CNN (mmdet) on the small T=2
# Meta-SpikeFormer of the classification demo, whose weights initialise the
# backbone. Data: the embedded digits scattered on 96x96 canvases
# (built on first use under data/digits_det; COCO boxes, classes, masks).
#
# Differences from the COCO configs, all for a 2-core CPU and tiny images:
# slim FPN and heads, fewer sampled RoIs; anchors scaled to the
# 24-40 px digits; no flips (a
# flipped digit is another digit). The backbone is the demos' own
# (configs/_base_/models/metaspikeformer-demo.py, attn_scale=1.0).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/models/metaspikeformer-demo.py',
]
strides = [4, 8, 16, 16]  # of taps 1-4 (the paper's stride-1 downsample4)
pretrained = 'work_dirs/demo/classification/epoch_12.pth'
model = dict(
    data_preprocessor=dict(mean=[77.9] * 3, std=[82.6] * 3, bgr_to_rgb=False,
                           pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        **_base_.backbone,
        out_indices=(1, 2, 3, 4),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    # FPN's in_channels: the backbone's (left out)
    neck=dict(
        _delete_=True,
        type='spikeformer_mm.SpikeToDense',
        reduction='mean',
        neck=dict(type='FPN', out_channels=64, num_outs=5)),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[6], strides=strides + [32])),
    roi_head=dict(
        bbox_roi_extractor=dict(
            out_channels=64, featmap_strides=strides,
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2)),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(
            out_channels=64, featmap_strides=strides,
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=2)),
        mask_head=dict(num_convs=2, in_channels=64, conv_out_channels=64,
                       num_classes=10)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200),
                  rcnn=dict(max_per_img=20)),
)

dataset_type = 'spikeformer_mm.DigitsDetection'
data_root = 'data/digits_det'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
# num_workers=0: on 2 cores a loader process competes with the model's
# threads (measured: 1.3 s/iteration with one worker, 0.8 without)
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 filter_cfg=dict(filter_empty_gt=True, min_size=4),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric',
                     ann_file=data_root + '/annotations/val.json',
                     metric=['bbox', 'segm'], format_only=False)
test_evaluator = val_evaluator

max_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=10.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
custom_hooks = [dict(type='spikeformer_mm.NaNGuardHook')]
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False, base_batch_size=4)
