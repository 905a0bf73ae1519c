# The segmentation demo's runtime: mmseg's with this toolbox's safety,
# seed 0 (its hooks are in the schedule, as mmseg keeps them).
_base_ = ['./segmentation.py']
randomness = dict(seed=0)
