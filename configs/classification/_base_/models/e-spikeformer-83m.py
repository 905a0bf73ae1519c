# E-SpikeFormer large 83M (V3's spikformer12_512, choice='base': embed dims
# 128, 256, 512, 12 blocks with the rep_conv branch) with the spiking
# classification head and its distillation head (V3's released weights
# have both; the class head reads the pooled real values, the KD head the
# quantised ones, as V3's code does), T=1, D=4 ("1x4"). The 171M sets
# `arch='171M'` and the heads' in_channels.
_base_ = ['../../../_base_/models/e-spikeformer.py']
arch = '83M'
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikeformer_mm.ESpikeFormerLarge',
        arch=arch,
        T=1,
        out_indices=(3, ),
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='spikeformer_mm.SpikingClsHead',
        num_classes=1000,
        in_channels=_base_.v3_tap_channels[arch][-1],
        with_kd=True,
        head_input='pooled',
        neuron_cfg=_base_.v3_large_head_neuron,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        topk=(1, 5)),
)
