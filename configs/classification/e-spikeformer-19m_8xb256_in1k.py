# E-SpikeFormer base 19M, T=1 x D=4, ImageNet-1K from scratch, V3's recipe
# (SDT_V3/Classification/Model_Base: Train_Base.md and main_finetune.py's
# defaults): LAMB, lr 6e-4 x batch / 256 (8 GPUs x 256), weight decay 0.05,
# 5 warm-up epochs then cosine to 1e-6 over 200 epochs, drop path 0.1,
# RandAugment m9, random erasing 0.25, label smoothing 0.1, no mixup. The
# rest as Meta-SpikeFormer's ImageNet recipe, which is the same.
# V3 reports 79.8% top-1 for its released 19M weights; evaluate them with
#   python -m spikeformer_mm.zoo download e-spikeformer-19m_in1k
#   python tools/test.py THIS_CONFIG checkpoints/e-spikeformer-19m_in1k.pth
_base_ = [
    '_base_/models/e-spikeformer-19m.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '_base_/schedules/imagenet_lamb_200e.py',
    '../_base_/runtimes/classification.py',
]
train_dataloader = dict(batch_size=256)
optim_wrapper = dict(optimizer=dict(lr=6e-4 * 2048 / 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=195, eta_min=1e-6, by_epoch=True,
         begin=5, end=200),
]
auto_scale_lr = dict(base_batch_size=2048)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
