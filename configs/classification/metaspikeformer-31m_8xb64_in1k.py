# Meta-SpikeFormer 31M (96, 192, 384, 480), T=1, ImageNet-1K from scratch.
_base_ = './metaspikeformer-15m_8xb64_in1k.py'
arch = '31M'
model = dict(backbone=dict(arch=arch),
             head=dict(in_channels=_base_.tap_channels[arch][-1]))
