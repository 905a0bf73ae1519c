# The event-digits classifier with integer-valued spikes (I-LIF, D=4; the
# setting: configs/_base_/models/ilif-d4.py) at T=1: the T=1 event config
# with the neuron of the backbone and the head changed, and the attention
# scale that counts need (ilif_attn_scale there).
_base_ = ['./metaspikeformer-demo_1xb32_event-digits-t1.py',
          '../../../configs/_base_/models/ilif-d4.py']
model = dict(backbone=dict(neuron_cfg=_base_.ilif_neuron,
                           attn_scale=_base_.ilif_attn_scale),
             head=dict(neuron_cfg=_base_.ilif_neuron))
