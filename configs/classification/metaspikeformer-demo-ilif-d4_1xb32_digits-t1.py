# The demo classifier with integer-valued spikes (I-LIF, D=4) at T=1, the
# I-LIF papers' setting (../_base_/models/ilif-d4.py): its binary twin
# (T=2) with the neuron of the backbone and the head changed, T=1 (the D
# slots of a count take the place of time steps) and the attention scale
# that counts need (ilif_attn_scale there).
_base_ = ['./metaspikeformer-demo_1xb32_digits-t2.py',
          '../_base_/models/ilif-d4.py']
model = dict(backbone=dict(T=_base_.ilif_T, neuron_cfg=_base_.ilif_neuron,
                           attn_scale=_base_.ilif_attn_scale),
             head=dict(neuron_cfg=_base_.ilif_neuron))
