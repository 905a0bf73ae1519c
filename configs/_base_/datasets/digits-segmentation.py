# 64x64 canvases of 1-2 digits (28-40 px) with a label map (background + 10
# digits) covering each digit's body, built on first use under
# data/digits_seg (4,000 train / 160 val canvases; the val canvases use only
# val-split digits).
_base_ = ['./digits.py']
crop_size = (64, 64)
dataset_type = 'spikeformer_mm.DigitsSegmentation'
data_root = 'data/digits_seg'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='spikeformer_mm.CheckSegSample', num_classes=11),
    dict(type='PackSegInputs'),
]
test_pipeline = train_pipeline  # mmseg's inference_model reads this name
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
