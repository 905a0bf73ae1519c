# Mask R-CNN with Meta-SpikeFormer 55M at T=4, initialised from the paper's
# released T=4 weights (converted: see the T=1 config).
_base_ = './mask-rcnn_metaspikeformer-55m_fpn_1x_coco-t1.py'
model = dict(backbone=dict(
    T=4, with_cp=True,
    init_cfg=dict(checkpoint='checkpoints/metaspikeformer-55m-kd_in1k-t4.pth')))
