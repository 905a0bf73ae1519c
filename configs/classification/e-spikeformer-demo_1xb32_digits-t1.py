# The demo classifier as an E-SpikeFormer (V3) base model: the binary demo's
# widths (embed dims 16, 32, 64, 128), data and schedule, with V3's blocks
# and its neuron (counts 0..4 / 4) at T=1, V3's own setting.
_base_ = ['./metaspikeformer-demo_1xb32_digits-t2.py',
          '../_base_/models/e-spikeformer.py']
model = dict(
    backbone=dict(_delete_=True, type='spikeformer_mm.ESpikeFormer',
                  arch=dict(embed_dims=[16, 32, 64, 128]), T=1,
                  out_indices=(4, )),
    head=dict(neuron_cfg=_base_.v3_base_head_neuron))
