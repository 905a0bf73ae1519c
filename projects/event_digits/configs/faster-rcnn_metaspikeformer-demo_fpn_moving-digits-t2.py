# The event-detection demo: Faster R-CNN (mmdet) on the demos' small
# Meta-SpikeFormer, reading event recordings in Prophesee's Gen1 format
# (spikeformer_mm.datasets.gen1): digits moving on a 96x96 canvas, recorded
# by this project's DVS emulator (event_digits/moving.py), boxes every
# 50 ms. Each sample is the 50 ms of events before a label time, cut into
# T=2 bins of 25 ms (T is real time): backbone step t sees bin t. (100 ms
# windows smear the moving digits: 0.693 against 0.754 mAP@0.5 for 50 ms
# on seed 0 at 3 epochs, docs/results/
# event_detection_recipe_search_2026-12-07b.json.)
#
# Inherits the dense detection demo (SpikeToDense + FPN, its slim heads,
# schedule and runtime) and changes only what differs: the data, 2 input
# channels, the data preprocessor that keeps the time axis, no mask head
# (Gen1 labels are boxes), and Gen1's evaluation (its box-size filter on
# the detections too). The backbone starts from the event classifier
# (tools/run_demos.py --tasks event: `model.backbone.init_cfg.checkpoint`),
# its first conv included; the first conv may also be missing or of
# another shape (`partial_load_keys`: a static classifier's 3-channel one
# then stays random).
_base_ = ['../../../configs/detection/'
          'mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py']
custom_imports = dict(
    imports=[*_base_.custom_imports.imports,
             'projects.event_digits.event_digits.detection'],
    allow_failed_imports=False)

T = 2
window_us = 50_000
max_epochs = 6
model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(
        _delete_=True, type='spikeformer_mm.EventDetDataPreprocessor',
        n_time_bins=T, pad_size_divisor=32),
    # the backbone's BatchNorms train (norm_eval=False, unlike the static
    # detector it inherits): frozen at the event classifier's statistics,
    # seed 0 gave 0.736 against 0.785 bbox mAP@0.5 (AMD EPYC, native;
    # docs/results/detection_amd_tries_2026-12-07b.json)
    backbone=dict(T=T, in_channels=2, norm_eval=False,
                  partial_load_keys=['downsample1_1.encode_conv.weight']),
    # one sample per RoIAlign bin (a 24-36 px digit is 6-9 cells at
    # stride 4: a cell per bin), computed as two matrix products
    # (SeparableRoIAlign: mmcv's and torchvision's values to float
    # rounding): their scalar CPU kernels spent 21% (mmcv, 2 samples per
    # bin) and 10% (torchvision, 1 sample) of a profiled iteration in the
    # backward (docs/results/event_detection_speed_amd_2026-12-07.json)
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='spikeformer_mm.SingleRoIExtractor',
            roi_layer=dict(_delete_=True,
                           type='spikeformer_mm.SeparableRoIAlign',
                           output_size=7, sampling_ratio=1)),
        mask_roi_extractor=None, mask_head=None),
    # the detector finds the digits and misnames them (with one class it
    # scores 0.900): half of the sampled RoIs positive (16 of 32 per image,
    # where mmdet's 25% of the inherited 64 gave 16 of 64) teaches the
    # names with fewer RoIs, and fewer proposals suffice for 1-3 digits;
    # with 6 epochs 0.839 against 0.794 at 25% of 32 (seed 0, native, two
    # processes; docs/results/event_detection_nproc_amd_2026-12-07.json)
    train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=100),
                   rcnn=dict(sampler=dict(num=32, pos_fraction=0.5))),
)

dataset_type = 'spikeformer_mm.MovingDigitsGen1'
data_root = 'data/moving_digits'
train_pipeline = [
    dict(type='spikeformer_mm.LoadGen1Window', window_us=window_us,
         n_time_bins=T),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs'),  # no flips: a flipped digit is another
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
    batch_sampler=None,
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root,
                 split='train', build=dict(),
                 filter_cfg=dict(filter_empty_gt=True),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root,
                 split='val', build=dict(), test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='spikeformer_mm.Gen1CocoMetric',
                     ann_file=None, metric='bbox')
test_evaluator = val_evaluator
# NHWC convolutions (oneDNN's fast layout on a CPU; docs/speed.md): 0.85x
# the time of an iteration in NCHW on one thread (profiled as above)
custom_hooks = [*_base_.custom_hooks,
                dict(type='spikeformer_mm.ChannelsLastHook')]

# 6 epochs of 2,160 label times (720 recordings x 3) in batches of 4: more
# steps are what helped most (5 epochs 0.842 against 0.754 for 3 on seed 0,
# docs/results/event_detection_recipe_search_2026-12-07b.json). On a 2-core
# CPU the record trains it as two processes of 2 (tools/run_demos.py
# --nproc 2; by hand: tools/dist_train.sh CONFIG 2 --cfg-options
# train_dataloader.batch_size=2): one process gains nothing from a second
# thread (docs/results/event_detection_nproc_amd_2026-12-07.json)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
