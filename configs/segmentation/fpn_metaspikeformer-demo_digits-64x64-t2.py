# The main job's segmenter: Semantic FPN (mmseg) on the demos' small
# Meta-SpikeFormer (T=2), its backbone initialised from the classification
# demo, on 64x64 canvases of 1-2 digits. Taps as the paper's segmentation
# code (strides 2, 4, 8, 16), each averaged over T before mmseg's FPN.
#
# Why this data and recipe, with what each alternative measured:
# configs/segmentation/README.md ("The demo segmenter").
_base_ = ['mmseg::_base_/models/fpn_r50.py',
          '../_base_/models/metaspikeformer-demo.py',
          '../_base_/datasets/digits-segmentation.py',
          '../_base_/schedules/digits-segmentation.py',
          '../_base_/runtimes/digits-segmentation.py']
model = dict(
    data_preprocessor=dict(**_base_.normalisation, bgr_to_rgb=False,
                           size=_base_.crop_size),
    pretrained=None,
    backbone=dict(_delete_=True, **_base_.dense_backbone,
                  out_indices=(0, 1, 2, 4)),
    neck=dict(_delete_=True, type='spikeformer_mm.SpikeToDense',
              reduction='mean', in_channels=[
                  _base_.tap_channels[i] for i in (0, 1, 2, 4)],
              neck=dict(type='FPN', out_channels=32, num_outs=4)),
    # background is most of the pixels: unweighted, the head collapsed to
    # all-background within 100 iterations (9.6 mIoU, 96px data); weighting
    # it 0.1 keeps the digits in play (0.3 collapsed nearly as badly: 12.5)
    decode_head=dict(in_channels=[32] * 4, feature_strides=[2, 4, 8, 16],
                     channels=32, dropout_ratio=0., num_classes=11,
                     norm_cfg=dict(type='BN', requires_grad=True),
                     loss_decode=dict(type='CrossEntropyLoss',
                                      use_sigmoid=False, loss_weight=1.0,
                                      class_weight=[0.1] + [1.0] * 10)),
)
