# The digits at 32x32, built on first use under data/digits_cls (fixed
# split 1,437 train / 360 val).
_base_ = ['./digits.py']
data_preprocessor = dict(num_classes=10, **_base_.normalisation,
                         to_rgb=False)
dataset_type = 'spikeformer_mm.DigitsClassification'
data_root = 'data/digits_cls'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # no flips: a mirrored digit is another digit (or none)
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.7, 1.0),
         aspect_ratio_range=(0.85, 1.15)),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
# The training loader's process does not persist across epochs: one that
# does keeps random states no checkpoint holds, and a resumed run would
# augment differently from the uninterrupted one (ResumableRandomnessHook).
train_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=False,
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64, num_workers=1, persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
