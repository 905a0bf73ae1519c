# E-SpikeFormer large 171M (V3's spikformer12_768: embed dims 196, 384, 768,
# no rep_conv branch), T=1 x D=4, with the 83M's distillation recipe.
_base_ = ['./e-spikeformer-83m-kd_8xb196_in1k.py']
arch = '171M'
model = dict(backbone=dict(arch=arch),
             head=dict(in_channels=_base_.v3_tap_channels[arch][-1]))
load_from = 'work_dirs/e-spikeformer-171m_finetune/epoch_150.pth'
