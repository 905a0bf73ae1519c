# Meta-SpikeFormer 55M (128, 256, 512, 640), T=1, ImageNet-1K from scratch.
_base_ = [
    '_base_/models/metaspikeformer-55m.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '_base_/schedules/imagenet_lamb_200e.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
