# Semantic FPN with E-SpikeFormer large 83M (T=1 x D=4) on ADE20K: its four
# taps (strides 2, 4, 8, 16, as the base models' 0, 1, 2, 4), initialised
# from V3's released 83M_1x4 weights, converted (python -m
# spikeformer_mm.zoo download e-spikeformer-83m-kd_in1k).
_base_ = ['./fpn_e-spikeformer-19m_4xb4-160k_ade20k-512x512-t1.py']
arch = '83M'
out_indices = (0, 1, 2, 3)
pretrained = 'zoo://e-spikeformer-83m-kd_in1k'
model = dict(
    backbone=dict(type='spikeformer_mm.ESpikeFormerLarge', arch=arch,
                  out_indices=out_indices,
                  init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[_base_.v3_tap_channels[arch][i]
                           for i in out_indices]))
