# Meta-SpikeFormer 15M, T=1, ImageNet-1K from scratch (paper recipe):
# RandAugment m9, random erasing 0.25, label smoothing 0.1, bicubic 224 crops,
# test resize 256 + center crop 224 (mmpretrain's swin pipeline is exactly this).
_base_ = [
    '_base_/models/metaspikeformer-15m.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '_base_/schedules/imagenet_lamb_200e.py',
    '../_base_/runtimes/classification.py',
]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
