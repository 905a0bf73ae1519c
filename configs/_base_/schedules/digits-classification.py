# A short, hot schedule (one-cycle-like) for the classification demo: AdamW
# at 1e-2 after 20 warm-up iterations, cosine to zero over 14 epochs (630
# iterations at batch 32). 14 rather than 12 (2026-12-06): the demo's
# spread over seeds and CPU kernel sets (configs/classification/README.md).
max_epochs = 14
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.01, fused=True),
    constructor='spikeformer_mm.GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.04, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=7)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)
