# Meta-SpikeFormer 55M (embed dims 128, 256, 512, 640): the 15M model with
# another arch (the head takes its in_channels from the backbone).
_base_ = './metaspikeformer-15m.py'
model = dict(backbone=dict(arch='55M'))
