# Meta-SpikeFormer 15M on DVS128 Gesture (11 classes, 128x128 sensor), the
# SNN papers' event benchmark: T=16 bins of each recording (T is real time),
# the events of 2x2 pixels summed (64x64 frames, tonic's Downsample) as the
# spike-driven Transformers' DVS recipes do, ON/OFF as the 2 input channels,
# from scratch. Schedule in the family's style for DVS sets: 200 epochs,
# AdamW 1e-3, cosine after 10 warm-up epochs, batch 16.
#
# Data: tonic's release unpacked under data/dvs (data/dvs/DVSGesture/
# ibmGestureTrain/user01_fluorescent/0.npy ...); nothing is downloaded.
_base_ = ['../../../configs/classification/_base_/models/'
          'metaspikeformer-15m.py',
          '../../../configs/_base_/runtimes/classification.py']
custom_imports = dict(
    imports=[*_base_.custom_imports.imports,
             'projects.event_digits.event_digits'],
    allow_failed_imports=False)
T = 16
sensor_size = (128, 128)
model = dict(
    backbone=dict(T=T, in_channels=2),
    head=dict(num_classes=11, topk=(1, )),
    data_preprocessor=dict(type='spikeformer_mm.EventDataPreprocessor'))
dataset_type = 'spikeformer_mm.DVSGestureEvents'
data_root = 'data/dvs'
pipeline = [
    dict(type='spikeformer_mm.LoadEvents', sensor_size=sensor_size),
    dict(type='spikeformer_mm.EventsToFrames', sensor_size=sensor_size,
         n_time_bins=T, spatial_factor=0.5),
    dict(type='spikeformer_mm.PackEventInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

max_epochs = 200
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0,
         end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=1e-6,
         by_epoch=True, begin=10, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2,
                                     save_best='auto'))
