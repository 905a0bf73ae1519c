# Meta-SpikeFormer 15M, T=4, fine-tuned from the T=1 ImageNet weights
# (paper recipe). load_from names the T=1 run's last checkpoint; point it
# elsewhere with --cfg-options load_from=PATH.
# T=4 activations take about 4x the memory of T=1: with_cp checkpoints each
# block's branches (token mixer, channel MLP) in the backward pass.
_base_ = [
    '_base_/models/metaspikeformer-15m.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '_base_/schedules/imagenet_t4_finetune_20e.py',
    '../_base_/runtimes/classification.py',
]
model = dict(backbone=dict(T=4, with_cp=True))
train_dataloader = dict(batch_size=4)
val_dataloader = dict(batch_size=16)
test_dataloader = dict(batch_size=16)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
load_from = 'work_dirs/metaspikeformer-15m_8xb64_in1k/epoch_200.pth'
