# The main job's classifier: the demos' small Meta-SpikeFormer (T=2,
# ../_base_/models/metaspikeformer-demo.py, whose attn_scale differs from
# the paper's on purpose) on the embedded digits at 32x32.
_base_ = ['../_base_/models/metaspikeformer-demo.py',
          '../_base_/datasets/digits-classification.py',
          '../_base_/schedules/digits-classification.py',
          '../_base_/runtimes/digits-classification.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(**_base_.backbone, out_indices=(4, )),
    neck=None,
    head=dict(
        type='spikeformer_mm.SpikingClsHead',
        num_classes=10,
        in_channels=_base_.tap_channels[-1],
        # label smoothing and the weight average (EMAHook below): what they
        # gave is in configs/classification/README.md
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  loss_weight=1.0),
        topk=(1, )),
)
# An exponential moving average of the weights (mmengine's EMAHook, about
# the last 100 iterations): validated and saved as the checkpoint's
# state_dict, so the dense demos start from the averaged backbone. (First
# in the list: --cfg-options custom_hooks.0.momentum=... reaches it however
# many hooks the safety policy holds.)
custom_hooks = [dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL'),
                *_base_.safety_hooks]
