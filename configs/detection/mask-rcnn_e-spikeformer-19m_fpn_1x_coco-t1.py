# Mask R-CNN with E-SpikeFormer base 19M (T=1 x D=4) on COCO: the 15M
# Meta-SpikeFormer recipe with V3's backbone (the same taps 1-4 at strides
# 4, 8, 16, 16), initialised from this project's ImageNet classifier of it
# (or V3's released weights, converted: python -m spikeformer_mm.zoo
# download e-spikeformer-19m_in1k, then --cfg-options
# model.backbone.init_cfg.checkpoint=PATH).
_base_ = ['./mask-rcnn_metaspikeformer-15m_fpn_1x_coco-t1.py',
          '../_base_/models/e-spikeformer.py']
arch = '19M'
out_indices = (1, 2, 3, 4)
pretrained = 'work_dirs/e-spikeformer-19m_8xb256_in1k/epoch_200.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='spikeformer_mm.ESpikeFormer',
        arch=arch,
        T=1,
        out_indices=out_indices,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    neck=dict(in_channels=[_base_.v3_tap_channels[arch][i]
                           for i in out_indices]))
