# The demo detector made spike-driven as in the paper's detection code: the
# time axis is kept through a spiking FPN and spiking RPN and RoI heads
# (configs/_base_/models/spiking-mask-rcnn-heads.py, which says why they
# have BatchNorms), averaged over T only at the class scores, box deltas
# and mask logits. Everything else (data, backbone, schedule, the slim
# widths) is the dense demo's, which averages the backbone's spikes over T
# first (SpikeToDense) and runs mmdet's dense FPN and heads.
_base_ = ['./mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py',
          '../_base_/models/spiking-mask-rcnn-heads.py']
# Its backbone's BatchNorms keep the classifier's statistics (norm_eval=True,
# inherited from the dense demo): trained on batches of 4 canvases they moved
# the thresholds of the spiking neurons after them (0.856 against 0.929
# bbox mAP@0.5, seed 0; the detection README has the runs).
model = dict(
    neck=dict(_base_.spiking_heads.neck, out_channels=64,
              in_channels=_base_.model.neck.in_channels),
    rpn_head=_base_.spiking_heads.rpn_head,
    roi_head=_base_.spiking_heads.roi_head)
