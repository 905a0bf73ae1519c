# The paper's fully spiking Mask R-CNN (spiking FPN, RPN and RoI heads; T
# kept until the logits) on the 55M T=1 config: everything else is
# mask-rcnn_metaspikeformer-55m_fpn_1x_coco-t1.py's.
_base_ = ['./mask-rcnn_metaspikeformer-55m_fpn_1x_coco-t1.py',
          '../_base_/models/spiking-mask-rcnn-heads.py']
model = dict(_base_.spiking_heads, neck=dict(
    _base_.spiking_heads.neck, in_channels=_base_.model.neck.in_channels))
