# E-SpikeFormer base 19M (V3's Efficient_Spiking_Transformer_l; embed dims
# 64, 128, 256, 360) with the spiking classification head, T=1, D=4. A
# config of another base size sets `arch` and the head's in_channels:
#   model = dict(backbone=dict(arch=arch),
#                head=dict(in_channels=_base_.v3_tap_channels[arch][-1]))
_base_ = ['../../../_base_/models/e-spikeformer.py']
arch = '19M'
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikeformer_mm.ESpikeFormer',
        arch=arch,
        T=1,
        out_indices=(4, ),
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='spikeformer_mm.SpikingClsHead',
        num_classes=1000,
        in_channels=_base_.v3_tap_channels[arch][-1],
        neuron_cfg=_base_.v3_base_head_neuron,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        topk=(1, 5)),
)
