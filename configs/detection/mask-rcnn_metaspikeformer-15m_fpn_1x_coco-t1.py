# Mask R-CNN with Meta-SpikeFormer 15M (T=1) on COCO, backbone initialised
# from this project's ImageNet classifier (paper, Sec. 5.2).
#
# The R-CNN skeleton (taps, SpikeToDense + FPN, true strides, AdamW):
# ../_base_/models/metaspikeformer-rcnn.py.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    '../_base_/runtimes/detection.py',
    '../_base_/models/metaspikeformer-rcnn.py',
]
model = dict(_base_.rcnn, roi_head=dict(
    _base_.rcnn.roi_head,
    mask_roi_extractor=dict(featmap_strides=_base_.strides)))
optim_wrapper = _base_.adamw
