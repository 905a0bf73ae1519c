# As the T=4 config, with all events of a recording in one bin (T=1): the
# time resolution the backbone loses is what the README's table measures.
_base_ = ['./metaspikeformer-demo_1xb32_event-digits-t4.py']
T = 1
model = dict(backbone=dict(T=T))
# the T=4 pipeline with T bins
pipeline = [dict(step, n_time_bins=T) if 'n_time_bins' in step else step
            for step in _base_.pipeline]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
