# E-SpikeFormer base 10M (V3's Efficient_Spiking_Transformer_m), T=1 x D=4, with the
# 19M's recipe (V3 trains every base size the same way).
_base_ = ['./e-spikeformer-19m_8xb256_in1k.py']
arch = '10M'
model = dict(backbone=dict(arch=arch),
             head=dict(in_channels=_base_.v3_tap_channels[arch][-1]))
