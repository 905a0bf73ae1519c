# Gen1 with integer spikes (I-LIF, counts 0..4 per step; SpikeYOLO's and
# E-SpikeFormer's neuron) at T=1: one bin of the last 50 ms, T x D = 1 x 4.
# Everything else is faster-rcnn_metaspikeformer-15m_fpn_8xb8-gen1-t5.py's.
_base_ = ['./faster-rcnn_metaspikeformer-15m_fpn_8xb8-gen1-t5.py']
T = 1
window_us = 50_000
window = dict(type='spikeformer_mm.LoadGen1Window', window_us=window_us,
              n_time_bins=T)
model = dict(
    data_preprocessor=dict(n_time_bins=T),
    backbone=dict(T=T, neuron_cfg=dict(type='ILIF', max_spike_count=4)))
train_dataloader = dict(dataset=dict(
    pipeline=[window, *_base_.train_pipeline[1:]]))
val_dataloader = dict(dataset=dict(
    pipeline=[window, *_base_.test_pipeline[1:]]))
test_dataloader = val_dataloader
