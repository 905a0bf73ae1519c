# E-SpikeFormer large 83M, T=1 x D=4 ("1x4"), ImageNet-1K with hard
# distillation from CAFormer-B36: V3's last training stage of its released
# 83M_1x4 weights (SDT_V3/Classification/Model_Large/Train_Large.md,
# "Distillation", and main_finetune.py's defaults): LAMB, lr 1e-3 x batch /
# 256 (8 GPUs x 196), weight decay 0.05, 5 warm-up epochs then cosine to
# 1e-6 over 100 epochs, drop path 0.1, RandAugment m9, random erasing
# 0.25, mixup 0.5, CutMix 1.0, label smoothing 0.1. It starts from V3's
# fine-tuned weights (load_from), which come from its spike-masked
# autoencoder pretraining, not part of this toolbox. Evaluate the released
# weights with
#   python -m spikeformer_mm.zoo download e-spikeformer-83m-kd_in1k
#   python tools/test.py THIS_CONFIG checkpoints/e-spikeformer-83m-kd_in1k.pth
_base_ = [
    '_base_/models/e-spikeformer-83m.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '_base_/schedules/imagenet_lamb_200e.py',
    '../_base_/runtimes/classification.py',
    '_base_/models/distill_caformer_b36.py',
]
model = dict(
    **_base_.distill,
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.5),
                             dict(type='CutMix', alpha=1.0)]))
load_from = 'work_dirs/e-spikeformer-83m_finetune/epoch_150.pth'
train_dataloader = dict(batch_size=196)
optim_wrapper = dict(optimizer=dict(lr=1e-3 * 1568 / 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=95, eta_min=1e-6, by_epoch=True,
         begin=5, end=100),
]
train_cfg = dict(max_epochs=100)
auto_scale_lr = dict(base_batch_size=1568)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
