# E-SpikeFormer large 83M at T=1 x D=8 ("1x8", V3's 83M_1x8 weights): the
# D=4 config with every quantiser counting to 8 (backbone outputs count / 8,
# the heads' counts undivided).
_base_ = ['./e-spikeformer-83m-kd_8xb196_in1k.py']
model = dict(backbone=dict(neuron_cfg=dict(max_spike_count=8, norm=8)),
             head=dict(neuron_cfg=dict(max_spike_count=8)))
