# Meta-SpikeFormer 31M (96, 192, 384, 480), T=1, ImageNet-1K from scratch.
_base_ = './metaspikeformer-15m_8xb64_in1k.py'
model = dict(backbone=dict(arch='31M'))  # head in_channels: the backbone's
