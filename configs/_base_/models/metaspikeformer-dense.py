# The dense skeleton of the Meta-SpikeFormer detectors and segmentors,
# written once: the backbone (15M, T=1, from this project's ImageNet
# classifier) whose taps a config picks with `out_indices`, and
# SpikeToDense, which averages each tap over T (rate decoding) before the
# toolbox's dense neck. A config adds what differs:
#   backbone=dict(_base_.dense_backbone, out_indices=out_indices),
#   neck=dict(_base_.spike_to_dense, in_channels=[...], neck=dict(...))
_base_ = ['./metaspikeformer.py']
arch = '15M'
pretrained = 'work_dirs/metaspikeformer-15m_8xb64_in1k/epoch_200.pth'
dense_backbone = dict(
    _delete_=True,
    type='spikeformer_mm.MetaSpikeFormer',
    arch=arch,
    T=1,
    init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                  prefix='backbone.'))
spike_to_dense = dict(_delete_=True, type='spikeformer_mm.SpikeToDense',
                      reduction='mean')
