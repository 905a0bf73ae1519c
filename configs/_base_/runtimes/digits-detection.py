# The detection demos' runtime: mmdet's with this toolbox's safety, gloo
# for distributed CPU runs, seed 0.
_base_ = ['./detection.py']
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
