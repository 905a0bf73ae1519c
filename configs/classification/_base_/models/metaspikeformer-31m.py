# Meta-SpikeFormer 31M (embed dims 96, 192, 384, 480): the 15M model with
# another arch (the head takes its in_channels from the backbone).
_base_ = './metaspikeformer-15m.py'
model = dict(backbone=dict(arch='31M'))
