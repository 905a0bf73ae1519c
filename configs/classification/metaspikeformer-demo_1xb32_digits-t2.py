# The main job's classifier: a small Meta-SpikeFormer (T=2) on the embedded
# digits (scikit-learn's 1,797 real 8x8 scans, upsampled to 32x32; built on
# first use under data/digits_cls, fixed split 1,437 train / 360 val).
#
# Deviation from the paper, on purpose: attn_scale=1.0 instead of 0.125.
# The fixed 0.125 assumes ImageNet token grids (14x14 at 224 px); on a 2x2
# grid with 16-dim heads the product Q(K^T V) * 0.125 rarely reaches the
# attention neuron's threshold of 0.5, the neuron stays silent and the model
# learns slowly (measured: 9% top-1 after one minute, against 91% with 1.0).
_base_ = ['mmpretrain::_base_/default_runtime.py']

embed_dims = [16, 32, 64, 128]
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikeformer_mm.MetaSpikeFormer',
        arch=dict(embed_dims=embed_dims),
        T=2,
        attn_scale=1.0,
        out_indices=(4, )),
    neck=None,
    head=dict(
        type='spikeformer_mm.SpikingClsHead',
        num_classes=10,
        in_channels=embed_dims[-1],
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
)

data_preprocessor = dict(
    num_classes=10, mean=[77.9] * 3, std=[82.6] * 3, to_rgb=False)

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

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# A short, hot schedule (one-cycle-like): AdamW at 1e-2 after 20 warm-up
# iterations, cosine to zero over 12 epochs (540 iterations).
max_epochs = 12
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.01, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.04, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=6)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_last=True),
)
randomness = dict(seed=0, deterministic=False)
