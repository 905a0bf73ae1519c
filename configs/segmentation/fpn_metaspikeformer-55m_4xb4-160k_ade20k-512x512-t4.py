# Semantic FPN with Meta-SpikeFormer 55M at T=4 on ADE20K, fine-tuned from
# the T=1 segmentation model.
_base_ = './fpn_metaspikeformer-55m_4xb4-160k_ade20k-512x512-t1.py'
model = dict(backbone=dict(T=4, with_cp=True, init_cfg=None))
load_from = ('work_dirs/fpn_metaspikeformer-55m_4xb4-160k_ade20k-512x512-t1/'
             'iter_160000.pth')
