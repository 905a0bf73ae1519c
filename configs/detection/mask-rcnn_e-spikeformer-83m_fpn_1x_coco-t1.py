# Mask R-CNN with E-SpikeFormer large 83M (T=1 x D=4) on COCO. The large
# model has three stages: taps 1-3 (strides 4, 8, 16) reach the FPN, whose
# two max-pooled levels give strides 32 and 64. Initialised from V3's
# released 83M_1x4 weights, converted (python -m spikeformer_mm.zoo
# download e-spikeformer-83m-kd_in1k); the rest is the 19M config's.
_base_ = ['./mask-rcnn_e-spikeformer-19m_fpn_1x_coco-t1.py']
arch = '83M'
out_indices = (1, 2, 3)
strides = [4, 8, 16, 32]  # the RoI levels: taps 1-3, then FPN's pool
pretrained = 'zoo://e-spikeformer-83m-kd_in1k'
model = dict(
    backbone=dict(type='spikeformer_mm.ESpikeFormerLarge', arch=arch,
                  out_indices=out_indices,
                  init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[_base_.v3_tap_channels[arch][i]
                           for i in out_indices]),
    rpn_head=dict(anchor_generator=dict(strides=strides + [64])),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=strides),
        mask_roi_extractor=dict(featmap_strides=strides)))
