# Meta-SpikeFormer (the classification demo's model) on event-camera digits:
# T is real time. Each recording (300 ms, three saccades, 34x34 sensor) is
# binned by tonic into T=4 frames of ON/OFF event counts, and time step t of
# the backbone sees slice t of the recording.
#
# Inherits the classification demo and changes only what differs: the data,
# 2 input channels (ON, OFF), T, and the data preprocessor that keeps the
# time axis. Data: the embedded event digits (scikit-learn's digits recorded
# by this project's DVS emulator in the N-MNIST layout), built on first use
# under data/event_digits; point data_root at an unpacked real N-MNIST
# (Train/, Test/) with `build=None` to train on it.
_base_ = ['../../../configs/classification/'
          'metaspikeformer-demo_1xb32_digits-t2.py']
custom_imports = dict(imports=['projects.event_digits.event_digits'],
                      allow_failed_imports=False)

T = 4
sensor_size = (34, 34)
model = dict(backbone=dict(T=T, in_channels=2))
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
train_dataloader = dict(dataset=dict(
    _delete_=True, type=dataset_type, data_root=data_root, split='train',
    build=dict(), pipeline=pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, type=dataset_type, data_root=data_root, split='val',
    build=dict(), pipeline=pipeline))
test_dataloader = val_dataloader
