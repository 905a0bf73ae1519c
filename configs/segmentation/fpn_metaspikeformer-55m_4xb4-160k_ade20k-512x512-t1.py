# Semantic FPN with Meta-SpikeFormer 55M (T=1) on ADE20K, initialised from
# the paper's released 55M weights once converted:
#   python tools/model_converters/sdtv2_to_mm.py 55M_kd.pth \
#       checkpoints/metaspikeformer-55m-kd_in1k-t1.pth
_base_ = './fpn_metaspikeformer-15m_4xb4-160k_ade20k-512x512-t1.py'
arch = '55M'
model = dict(
    neck=dict(in_channels=[_base_.tap_channels[arch][i]
                           for i in _base_.out_indices]),
    backbone=dict(
        arch=arch,
        init_cfg=dict(checkpoint='checkpoints/metaspikeformer-55m-kd_in1k-t1.pth')))
