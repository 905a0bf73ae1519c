"""Energy, firing rates, parameters and FLOPs of a spiking model.

The 45 nm energy model the field uses (Horowitz, ISSCC 2014; the paper's
Sec. 5 and appendix): a multiply-accumulate (MAC) costs 4.6 pJ, an
accumulate (AC) 0.9 pJ. A synaptic layer (conv, transposed conv, linear, or an attention
product) whose input is a binary spike tensor does one AC per synaptic
operation (SOP); a layer with real-valued input (the encoding conv that
sees pixels, the dense necks and heads of detectors and segmentors) does
MACs. Per image::

    E = 4.6 pJ * MACs + 0.9 pJ * SOPs,   SOPs ~= T * firing_rate * FLOPs

Counting uses spikingjelly's op counters, which see every aten op of the
forward pass with the module that runs it: ``SynOpCounter`` counts SOPs
exactly (each input spike times the weights it reaches, so border pixels of
a padded conv count what they really touch; for 1x1 convs, linears and
unpadded convs this equals T x rate x FLOPs; a layer fed event counts, the
encoding conv of an event-camera model, costs one AC per event and weight
it reaches), ``MACCounter`` counts MACs of
non-spike inputs (its BatchNorm rule is dropped: the paper counts conv and
linear layers only; BNs fold into convs at deployment) and ``FlopCounter``
gives the dense FLOPs. Firing rates are measured with forward pre-hooks on
the synaptic layers (our own: spikingjelly's ``monitor`` would pull in
tensorboard for a fraction of the tensor).

The attention products of SDSA are counted as the aten ``bmm``/``mul`` ops
they are: in the V2 form ``K^T V`` has both operands binary (one AC per
pair of co-active entries) and ``Q (K^T V)`` has binary ``Q`` (one AC per
spike of Q times the head dim); they appear as one ``matmul`` row per
attention module. By default the model is first re-parameterised for
deployment (``switch_to_deploy``: RepConv and BNs folded into single convs,
the form the paper's design targets); ``deploy=False`` counts the training
graph, where RepConv's inner convs see real values and count as MACs.

Integer spikes (I-LIF) are counted in their binary form
(:func:`spikeformer_mm.deploy.expand_to_binary`): each count of k is k unit
events, each reaching each weight is one AC, so an integer input is never
billed as a MAC (the meter refuses an I-LIF model that was not expanded).
Two rates are reported per layer: ``firing_rate``, the non-zero fraction of
the input, and ``events_per_neuron_step``, unit events per neuron and step
(SpikeYOLO's, which includes D; the same for 0/1 spikes). The paper
convention bills a spike input at ``events_per_neuron_step`` (the report's
``paper_rate``), a real-valued input inside the backbone (SepConv's second
1x1 conv) at its ``firing_rate``, as the papers do; a dense layer (real
values outside the spiking backbone: dense necks and heads) is a MAC in
both conventions, and the report gives its share (``dense``).

Modules: :mod:`.rates` (firing rates, sources, op counters), :mod:`.meter`
(the meter and its conventions), :mod:`.report` (table, plot).
"""
from .meter import (CONVENTIONS, E_AC_PJ, E_MAC_PJ,  # noqa: F401
                    FLOPS_BASES, EnergyMeter, energy_at_rate, trained_macs)
from .rates import (SYNAPTIC, FiringRateRecorder,  # noqa: F401
                    SourceTracker, _count_sops, attention_neurons, lif_scale,
                    op_counters, tensors_of)
from .report import format_table, plot_firing_rates  # noqa: F401
