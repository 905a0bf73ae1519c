# Meta-SpikeFormer (the classification demo's model) on event-camera digits:
# T is real time. Each recording (300 ms, three saccades, 34x34 sensor) is
# binned by tonic into T=4 frames of ON/OFF event counts, and time step t of
# the backbone sees slice t of the recording.
#
# Inherits the classification demo and changes only what differs: the data,
# 2 input channels (ON, OFF), T, and the data preprocessor that keeps the
# time axis; the backbone starts from the static classifier and the schedule
# is shorter (below). Data: the embedded event digits (scikit-learn's digits recorded
# by this project's DVS emulator in the N-MNIST layout), built on first use
# under data/event_digits; point data_root at an unpacked real N-MNIST
# (Train/, Test/) with `build=None` to train on it.
_base_ = ['../../../configs/classification/'
          'metaspikeformer-demo_1xb32_digits-t2.py']
custom_imports = dict(
    imports=[*_base_.custom_imports.imports, 'projects.event_digits.event_digits'],
    allow_failed_imports=False)

T = 4
sensor_size = (34, 34)
# The backbone starts from the static classification demo's (the same
# digits as images, train split only; `tools/run_demos.py --tasks
# classification` makes it; `_base_.dense_backbone`): every weight but the
# first conv's, which sees 2 event channels instead of 3 image channels
# (named in partial_load_keys, it keeps its random initialisation). From
# scratch the same schedule reached 85-89% (README).
model = dict(backbone=dict(
    _base_.dense_backbone, T=T, in_channels=2,
    # the one tensor the classifier's checkpoint gives in another shape
    partial_load_keys=['downsample1_1.encode_conv.weight']))
data_preprocessor = dict(_delete_=True,
                         type='spikeformer_mm.EventDataPreprocessor')

dataset_type = 'spikeformer_mm.NMNISTEvents'
data_root = 'data/event_digits'
pipeline = [
    dict(type='spikeformer_mm.LoadEvents', sensor_size=sensor_size),
    dict(type='spikeformer_mm.EventsToFrames', sensor_size=sensor_size,
         n_time_bins=T),
    dict(type='spikeformer_mm.PackEventInputs'),
]
# batch 16 (twice the static demo's updates per epoch); no loader process:
# on 2 cores it competes with the model's threads, and binning a recording
# takes 2 ms
train_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root,
                 split='train', build=dict(), pipeline=pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root,
                 split='val', build=dict(), pipeline=pipeline))
test_dataloader = val_dataloader

# 6 epochs (540 iterations), AdamW 1e-2 with 20 warm-up iterations, cosine;
# no weight average: over so short a run it mixes in early weights whose
# BatchNorm statistics do not match (measured: 10.6% top-1 at T=8)
max_epochs = 6
param_scheduler = [
    dict(type='LinearLR', start_factor=0.04, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
custom_hooks = _base_.safety_hooks
