# The main job's detector: Mask R-CNN (mmdet) on the demos' small
# Meta-SpikeFormer (T=2), its backbone initialised from the classification
# demo, on the digits scattered on 96x96 canvases. Its backbone's taps 1-4
# (strides 4, 8, 16, 16) are averaged over T (SpikeToDense), then mmdet's
# FPN. Differences from the COCO configs, for a 2-core CPU and tiny images:
# slim FPN and heads, fewer sampled RoIs, anchors scaled to the 24-40 px
# digits; the backbone's BatchNorms keep the classifier's statistics
# (norm_eval): at 4 canvases a batch their batch statistics moved the
# spiking thresholds from step to step, and the recipe landed 0.886 / 0.916
# bbox mAP@0.5 on an AMD EPYC against 0.962 / 0.965 with norm_eval (seed 0,
# native / AVX2; configs/detection/README.md).
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py',
          '../_base_/models/metaspikeformer-demo.py',
          '../_base_/datasets/digits-detection.py',
          '../_base_/schedules/digits-detection.py',
          '../_base_/runtimes/digits-detection.py']
strides = [4, 8, 16, 16]  # of taps 1-4 (the paper's stride-1 downsample4)
roi = dict(out_channels=64, featmap_strides=strides)
model = dict(
    data_preprocessor=dict(**_base_.normalisation, bgr_to_rgb=False,
                           pad_size_divisor=32),
    backbone=dict(_delete_=True, **_base_.dense_backbone,
                  out_indices=(1, 2, 3, 4), norm_eval=True),
    neck=dict(_delete_=True, type='spikeformer_mm.SpikeToDense',
              reduction='mean', in_channels=_base_.tap_channels[1:],
              neck=dict(type='FPN', out_channels=64, num_outs=5)),
    rpn_head=dict(in_channels=64, feat_channels=64, anchor_generator=dict(
        scales=[6], strides=strides + [32])),
    roi_head=dict(
        bbox_roi_extractor=dict(**roi, roi_layer=dict(
            type='RoIAlign', output_size=7, sampling_ratio=2)),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(**roi, roi_layer=dict(
            type='RoIAlign', output_size=14, sampling_ratio=2)),
        mask_head=dict(num_convs=2, in_channels=64, conv_out_channels=64,
                       num_classes=10)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200),
                  rcnn=dict(max_per_img=20)),
)
