# The demo detector made spike-driven as in the paper's detection code: the
# time axis is kept through a spiking FPN and spiking RPN and RoI heads
# (configs/_base_/models/spiking-mask-rcnn-heads.py, which says why they
# have BatchNorms), averaged over T only at the class scores, box deltas
# and mask logits. Everything else (data, backbone, schedule, the slim
# widths) is the dense demo's, which averages the backbone's spikes over T
# first (SpikeToDense) and runs mmdet's dense FPN and heads.
_base_ = ['./mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py',
          '../_base_/models/spiking-mask-rcnn-heads.py']
# Its backbone's BatchNorms train (norm_eval=False), as in the runs its
# README's figures come from; the dense demo keeps them at the classifier's
# statistics since 2026-12-07 (not measured on this detector).
model = dict(
    backbone=dict(norm_eval=False),
    neck=dict(_base_.spiking_heads.neck, out_channels=64,
              in_channels=_base_.model.neck.in_channels),
    rpn_head=_base_.spiking_heads.rpn_head,
    roi_head=_base_.spiking_heads.roi_head)
