# Semantic FPN with E-SpikeFormer base 19M (T=1 x D=4) on ADE20K: the 15M
# Meta-SpikeFormer recipe with V3's backbone (the same taps 0, 1, 2, 4 at
# strides 2, 4, 8, 16), initialised from this project's ImageNet
# classifier of it (or V3's released 19M weights, converted).
_base_ = ['./fpn_metaspikeformer-15m_4xb4-160k_ade20k-512x512-t1.py',
          '../_base_/models/e-spikeformer.py']
arch = '19M'
out_indices = (0, 1, 2, 4)
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
