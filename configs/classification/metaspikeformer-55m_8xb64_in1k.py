# Meta-SpikeFormer 55M (128, 256, 512, 640), T=1, ImageNet-1K from scratch.
_base_ = './metaspikeformer-15m_8xb64_in1k.py'
model = dict(backbone=dict(arch='55M'))  # head in_channels: the backbone's
