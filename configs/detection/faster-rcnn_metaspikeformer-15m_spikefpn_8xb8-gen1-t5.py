# The fully spiking detector on Gen1 (spiking FPN, RPN and RoI heads; T kept
# until the logits), the paper's detection design: everything else is
# faster-rcnn_metaspikeformer-15m_fpn_8xb8-gen1-t5.py's. Gen1 has no masks:
# the spiking heads without their mask head.
_base_ = ['./faster-rcnn_metaspikeformer-15m_fpn_8xb8-gen1-t5.py',
          '../_base_/models/spiking-mask-rcnn-heads.py']
model = dict(
    _base_.spiking_heads,
    neck=dict(_base_.spiking_heads.neck,
              in_channels=_base_.model.neck.in_channels),
    roi_head=dict(_base_.spiking_heads.roi_head, mask_head=None))
