"""The setting that picks spikingjelly's CUDA implementation of the
neurons (measured on the GPU by gpu_check.py), checked on any machine:
spikingjelly reads its choice once, at import; the setting reaches it
after that too."""
import importlib
import os

import pytest

from spikeformer_mm.models.neurons import (CUDA_KERNELS, cuda_kernel,
                                           set_cuda_kernel)
from spikeformer_mm.models.neurons.cuda_kernels import KERNEL_SETTINGS


@pytest.fixture
def restore(monkeypatch):
    for _, variable in KERNEL_SETTINGS.values():
        monkeypatch.delenv(variable, raising=False)
    yield
    set_cuda_kernel('auto')


def test_the_setting_reaches_spikingjellys_selection(restore):
    for name, (package, variable) in KERNEL_SETTINGS.items():
        selection = importlib.import_module(package)._selection
        selection._selections[0] = 'cached choice'
        set_cuda_kernel('triton', neurons=(name, ))
        assert selection._requested == 'triton' == cuda_kernel(name)
        assert os.environ[variable] == 'triton'  # for child processes
        assert not selection._selections  # chosen again on next use
    set_cuda_kernel('auto')
    assert all(cuda_kernel(n) == 'auto' for n in KERNEL_SETTINGS)
    assert set(CUDA_KERNELS) == {'auto', 'cuda', 'triton', 'torch'}


def test_bad_settings_name_the_choices(restore):
    with pytest.raises(ValueError, match=r"one of \('auto', 'cuda', "
                                         r"'triton', 'torch'\), got 'cupy'"):
        set_cuda_kernel('cupy')
    with pytest.raises(ValueError, match="no CUDA kernel setting for neuron "
                                         "'PLIF'"):
        set_cuda_kernel('triton', neurons=('PLIF', ))
