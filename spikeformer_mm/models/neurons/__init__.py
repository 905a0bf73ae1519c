"""Neurons: every spiking layer builds its neurons with :func:`build_neuron`
from a ``neuron_cfg`` whose ``type`` names one of the registered neurons.

==========  ==========================================  ===============
type        neuron                                      module
==========  ==========================================  ===============
``LIF``     the paper's multi-step LIF (default), with  :mod:`.lif`
            a fused CPU backend
``IF``      spikingjelly's integrate-and-fire           :mod:`.spikingjelly_nodes`
``PLIF``    spikingjelly's parametric LIF               :mod:`.spikingjelly_nodes`
``ILIF``    integer-valued LIF (counts 0..D per step,   :mod:`.ilif`
            SpikeYOLO / E-SpikeFormer)
``QuantAct`` (D+1)-level quantised activation, no       :mod:`.ilif`
            membrane (the baseline of I-LIF)
``MultiSpike`` E-SpikeFormer's normalised integer       :mod:`.multispike`
            neuron: ``round(clip(x, 0, D)) / norm``
``NILIF``   Spike2Former's normalised I-LIF: I-LIF's      :mod:`.ilif`
            counts over T with a membrane, ``/ norm``
==========  ==========================================  ===============

The attention neuron fires at half the threshold
(:data:`ATTENTION_THRESHOLD`), whatever the type.
"""
from .builder import (build_neuron, build_surrogate, is_neuron,
                      merge_neuron_cfg, neuron_class)
from .lif import LIF_DEFAULTS, MultiStepLIF, unrolled_lif
from .ilif import MultiStepILIF, MultiStepNILIF, MultiStepQuantAct
from .multispike import MultiStepMultiSpike
from .cuda_kernels import CUDA_KERNELS, cuda_kernel, set_cuda_kernel
from .spikingjelly_nodes import MultiStepIF, MultiStepParametricLIF

# The paper's neuron settings (the default type's), for reading.
NEURON_DEFAULTS = LIF_DEFAULTS

# The neuron after the attention product fires at half the usual threshold.
ATTENTION_THRESHOLD = 0.5

__all__ = ['CUDA_KERNELS', 'cuda_kernel', 'set_cuda_kernel', 'MultiStepILIF',
           'MultiStepNILIF', 'MultiStepQuantAct', 'MultiStepMultiSpike',
           'build_neuron', 'build_surrogate', 'is_neuron', 'merge_neuron_cfg',
           'neuron_class', 'MultiStepLIF', 'MultiStepIF',
           'MultiStepParametricLIF', 'unrolled_lif', 'NEURON_DEFAULTS',
           'LIF_DEFAULTS', 'ATTENTION_THRESHOLD']
