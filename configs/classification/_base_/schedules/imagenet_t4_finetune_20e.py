# The paper's T=4 fine-tune from the T=1 weights: 20 epochs, 2 warm-up
# epochs, peak lr 1e-5 at a total batch of 32 (8 GPUs x 4).
optim_wrapper = dict(
    optimizer=dict(type='Lamb', lr=1e-5, weight_decay=0.05),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=18, eta_min=1e-7, by_epoch=True,
         begin=2, end=20),
]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
auto_scale_lr = dict(base_batch_size=32)
