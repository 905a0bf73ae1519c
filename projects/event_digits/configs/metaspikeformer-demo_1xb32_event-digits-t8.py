# As the T=4 config, at T=8 (bins of 37.5 ms): what finer time resolution
# buys is what the README's table measures.
_base_ = ['./metaspikeformer-demo_1xb32_event-digits-t4.py']
T = 8
model = dict(backbone=dict(T=T))
pipeline = [
    dict(type='spikeformer_mm.LoadEvents', sensor_size=(34, 34)),
    dict(type='spikeformer_mm.EventsToFrames', sensor_size=(34, 34),
         n_time_bins=T),
    dict(type='spikeformer_mm.PackEventInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
