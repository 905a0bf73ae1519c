# Meta-SpikeFormer 55M (128, 256, 512, 640), T=1, ImageNet-1K from scratch.
_base_ = './metaspikeformer-15m_8xb64_in1k.py'
arch = '55M'
model = dict(backbone=dict(arch=arch),
             head=dict(in_channels=_base_.tap_channels[arch][-1]))
