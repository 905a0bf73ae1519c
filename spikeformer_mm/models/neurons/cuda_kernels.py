"""Which of spikingjelly's CUDA implementations runs the neurons on a GPU.

On CUDA tensors the LIF and I-LIF neurons here run spikingjelly 2.0's own
kernels (the fused CPU paths are for CPUs). spikingjelly has three for each
neuron, picked per process by an environment variable it reads when it is
imported (``SJ_LIF_CUDA_IMPLEMENTATION``, ``SJ_ILIF_CUDA_IMPLEMENTATION``):
``cuda`` (its compiled extension), ``triton`` and ``torch`` (a reference
loop), or ``auto`` (cuda, then triton, then torch; triton first under
``torch.compile``). Which is fastest depends on the GPU, T and the shapes,
so it is a setting measured on the GPU (``tools/analysis_tools/
gpu_check.py`` times each), not guessed: :func:`set_cuda_kernel` applies
it in a running process, before or after spikingjelly was imported.
"""
import importlib
import os
import sys

# spikingjelly's choices, and the neurons whose choice is set: our neuron
# type -> (spikingjelly's ops package, its environment variable)
CUDA_KERNELS = ('auto', 'cuda', 'triton', 'torch')
KERNEL_SETTINGS = {
    'LIF': ('spikingjelly._ops.lif', 'SJ_LIF_CUDA_IMPLEMENTATION'),
    'ILIF': ('spikingjelly._ops.ilif', 'SJ_ILIF_CUDA_IMPLEMENTATION'),
}


def set_cuda_kernel(kernel: str, neurons=tuple(KERNEL_SETTINGS)) -> None:
    """Run ``neurons`` (types of :data:`KERNEL_SETTINGS`) on spikingjelly's
    ``kernel`` implementation on CUDA from now on in this process (and in
    the processes it starts: the environment variable is set too)."""
    if kernel not in CUDA_KERNELS:
        raise ValueError(f'cuda kernel must be one of {CUDA_KERNELS}, got '
                         f'{kernel!r}')
    for name in neurons:
        if name not in KERNEL_SETTINGS:
            raise ValueError(f'no CUDA kernel setting for neuron {name!r}: '
                             f'one of {tuple(KERNEL_SETTINGS)}')
        package, variable = KERNEL_SETTINGS[name]
        os.environ[variable] = kernel
        if package in sys.modules or kernel != 'auto':
            selection = importlib.import_module(package)._selection
            # spikingjelly read the variable when it was imported; its
            # choice per device is cached: both follow the new setting
            selection._requested = kernel
            selection._selections.clear()
            selection._compiled_selections.clear()


def cuda_kernel(neuron: str = 'LIF') -> str:
    """The implementation requested for ``neuron`` (``'auto'`` unless set)."""
    package, variable = KERNEL_SETTINGS[neuron]
    if package in sys.modules:
        return importlib.import_module(package)._selection._requested
    return os.environ.get(variable, 'auto')
