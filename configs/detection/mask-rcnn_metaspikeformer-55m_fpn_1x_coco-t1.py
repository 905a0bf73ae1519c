# Mask R-CNN with Meta-SpikeFormer 55M (T=1) on COCO. The paper's released
# 55M weights work as initialisation once converted:
#   python tools/model_converters/sdtv2_to_mm.py 55M_kd.pth \
#       checkpoints/metaspikeformer-55m-kd_in1k-t1.pth
_base_ = './mask-rcnn_metaspikeformer-15m_fpn_1x_coco-t1.py'
arch = '55M'
model = dict(
    neck=dict(in_channels=[_base_.tap_channels[arch][i]
                           for i in _base_.out_indices]),
    backbone=dict(
        arch=arch,
        init_cfg=dict(checkpoint='checkpoints/metaspikeformer-55m-kd_in1k-t1.pth')))
