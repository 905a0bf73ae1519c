# As the T=1 config, at T=4 (initialised from the T=4 ImageNet classifier).
_base_ = './mask-rcnn_metaspikeformer-15m_fpn_1x_coco-t1.py'
model = dict(backbone=dict(
    T=4, with_cp=True,
    init_cfg=dict(checkpoint='work_dirs/metaspikeformer-15m_8xb4_in1k-t4/'
                  'epoch_20.pth')))
