# Meta-SpikeFormer 55M with integer-valued spikes (I-LIF, T=1, D=4; the
# setting and its sources: ../_base_/models/ilif-d4.py). Everything else is
# the binary twin's (the paper's T=1 ImageNet recipe); only the neuron of the
# backbone and the head changes.
_base_ = ['./metaspikeformer-55m_8xb64_in1k.py',
          '../_base_/models/ilif-d4.py']
model = dict(backbone=dict(T=_base_.ilif_T, neuron_cfg=_base_.ilif_neuron),
             head=dict(neuron_cfg=_base_.ilif_neuron))
