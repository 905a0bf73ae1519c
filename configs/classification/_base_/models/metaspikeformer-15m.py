# Meta-SpikeFormer 15M (embed dims 64, 128, 256, 360) with the spiking
# classification head, as an mmpretrain ImageClassifier (paper, Sec. 4).
# A config of another size sets `arch` and the two fields that follow it:
#   model = dict(backbone=dict(arch=arch),
#                head=dict(in_channels=_base_.tap_channels[arch][-1]))
_base_ = ['../../../_base_/models/metaspikeformer.py']
arch = '15M'
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikeformer_mm.MetaSpikeFormer',
        arch=arch,
        T=1,
        out_indices=(4, ),
        drop_path_rate=0.),
    neck=None,
    head=dict(
        type='spikeformer_mm.SpikingClsHead',
        num_classes=1000,
        in_channels=_base_.tap_channels[arch][-1],
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        topk=(1, 5)),
)
