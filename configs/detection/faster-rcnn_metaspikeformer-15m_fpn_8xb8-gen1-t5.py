# Event-camera detection on Prophesee's Gen1 (cars, pedestrians) with
# Meta-SpikeFormer 15M: Faster R-CNN (mmdet), the backbone fed T=5 bins of
# 50 ms of ON/OFF event counts (T is real time), its taps 1-4 averaged
# over T (SpikeToDense) into mmdet's FPN, as the COCO configs do.
#
# Why Faster R-CNN: Gen1 labels are boxes only, so the COCO configs'
# Mask R-CNN without its mask head; it keeps this toolbox's spiking RPN and
# RoI heads for the fully spiking variant (*_spikefpn_*), which a
# one-stage head (RetinaNet, FCOS, YOLOX) would need written anew.
# The backbone starts from the ImageNet classifier but for its first conv,
# which sees 2 event channels (partial_load_keys).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    '../_base_/datasets/gen1-detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    '../_base_/runtimes/detection.py',
    '../_base_/models/metaspikeformer-rcnn.py',
]
model = dict(
    _base_.rcnn,
    data_preprocessor=dict(
        _delete_=True, type='spikeformer_mm.EventDetDataPreprocessor',
        n_time_bins=_base_.T, pad_size_divisor=32),
    backbone=dict(
        _base_.rcnn.backbone,
        T=_base_.T,
        in_channels=2,
        partial_load_keys=['downsample1_1.encode_conv.weight']),
    roi_head=dict(_base_.rcnn.roi_head, bbox_head=dict(num_classes=2)),
)
optim_wrapper = _base_.adamw
auto_scale_lr = dict(enable=False, base_batch_size=64)
