# Meta-SpikeFormer 55M, T=4, fine-tuned from the T=1 ImageNet weights
# (paper recipe), as the 15M one.
_base_ = './metaspikeformer-15m_8xb4_in1k-t4.py'
arch = '55M'
model = dict(backbone=dict(arch=arch),
             head=dict(in_channels=_base_.tap_channels[arch][-1]))
load_from = 'work_dirs/metaspikeformer-55m_8xb64_in1k/epoch_200.pth'
