# The paper's ImageNet recipe, T=1 from scratch: LAMB, weight decay 0.05,
# lr 6e-4 x batch / 256, 200 epochs with 10 linear warm-up epochs, cosine.
# Written for a total batch of 512 (8 GPUs x 64).
optim_wrapper = dict(
    optimizer=dict(type='Lamb', lr=6e-4 * 512 / 256, weight_decay=0.05),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=190, eta_min=1e-6, by_epoch=True,
         begin=10, end=200),
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# --auto-scale-lr scales the lr by (GPUs x batch) / 512
auto_scale_lr = dict(base_batch_size=512)
