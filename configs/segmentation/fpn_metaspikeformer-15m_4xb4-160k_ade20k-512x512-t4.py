# Semantic FPN with Meta-SpikeFormer 15M at T=4 on ADE20K, fine-tuned from
# the T=1 segmentation model (the paper's 33.6 mIoU setting).
_base_ = './fpn_metaspikeformer-15m_4xb4-160k_ade20k-512x512-t1.py'
model = dict(backbone=dict(T=4, with_cp=True, init_cfg=None))
load_from = ('work_dirs/fpn_metaspikeformer-15m_4xb4-160k_ade20k-512x512-t1/'
             'iter_160000.pth')
