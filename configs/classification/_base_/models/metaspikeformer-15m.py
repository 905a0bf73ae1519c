# Meta-SpikeFormer 15M (embed dims 64, 128, 256, 360) with the spiking
# classification head, as an mmpretrain ImageClassifier (paper, Sec. 4).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikeformer_mm.MetaSpikeFormer',
        arch='15M',
        T=1,
        out_indices=(4, ),
        drop_path_rate=0.),
    neck=None,
    head=dict(
        type='spikeformer_mm.SpikingClsHead',
        num_classes=1000,  # in_channels: the backbone's (left out)
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        topk=(1, 5)),
)
