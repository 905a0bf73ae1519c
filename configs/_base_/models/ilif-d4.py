# Integer-valued spikes (I-LIF) in the setting of their papers: at most D=4
# spikes per neuron and time step, at one time step (T=1). D=4: SpikeYOLO
# (Luo et al., ECCV 2024), whose code's neuron (`mem_update`) fires through
# `MultiSpike4`; the same T=1, D=4 setting is E-SpikeFormer's (Spike-Driven
# Transformer V3, Yao et al., TPAMI 2025). The membrane keeps 0.25 of itself
# per step (`decay = 0.25` in SpikeYOLO's code: tau=4/3) and the threshold
# is 1.0: the defaults of spikeformer_mm.models.neurons.MultiStepILIF, not
# repeated here. Trained as counts; run spike-driven through the binary
# expansion (tools/analysis_tools/binary_equivalence.py proves them equal).
ilif_neuron = dict(type='ILIF', max_spike_count=4)
ilif_T = 1
# What the neuron forces in the demos (whose binary configs deviate from
# the paper with attn_scale=1.0; ../_base_/models/metaspikeformer-demo.py):
# counts multiply, so I-LIF's Q (K^T V) is up to D^3 = 64 times that of
# spikes and at 1.0 the attention neuron saturates. The paper's 0.125 is
# used instead (what each measured on the digits demo:
# configs/classification/README.md).
# The 15M / 55M configs already have it.
ilif_attn_scale = 0.125
