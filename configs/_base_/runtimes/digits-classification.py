# The classification demo's runtime: mmpretrain's with this toolbox's
# safety, a checkpoint every epoch (the last two kept), seed 0.
_base_ = ['./classification.py']
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_last=True))
randomness = dict(seed=0, deterministic=False)
