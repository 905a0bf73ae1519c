# Prophesee's Gen1 automotive detection data (spikeformer_mm.datasets.gen1):
# the release unpacked under data_root as train/, val/, test/ folders of
# <name>_td.dat and <name>_bbox.npy. A sample is one label time: the events
# of the window_us before it, cut into T bins of equal time (T is real
# time), boxes filtered as Prophesee's evaluation does (diagonal >= 30 px,
# sides >= 10 px; label times of the first 0.5 s left out). A config that
# changes T or the window restates the two pipelines (mm resolves these
# variables where they are written).
dataset_type = 'spikeformer_mm.Gen1Detection'
data_root = 'data/gen1'
T = 5
window_us = 250_000  # 5 bins of 50 ms
train_pipeline = [
    dict(type='spikeformer_mm.LoadGen1Window', window_us=window_us,
         n_time_bins=T),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),  # a mirrored street is a street
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='spikeformer_mm.LoadGen1Window', window_us=window_us,
         n_time_bins=T),
    dict(type='LoadAnnotations', with_bbox=True),
    # 'instances': the ground truth the metric reads (no COCO file)
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances', 'label_time')),
]
train_dataloader = dict(
    batch_size=8, num_workers=4, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 filter_cfg=dict(filter_empty_gt=True),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=4, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='spikeformer_mm.Gen1CocoMetric', ann_file=None,
                     metric='bbox')
test_evaluator = val_evaluator
