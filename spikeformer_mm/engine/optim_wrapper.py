"""Mixed precision on any device."""
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from ..compat import cpu_bf16_supported

from ..registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast``.

    mmengine's ``AmpOptimWrapper`` accepts only CUDA-like devices; this one
    also runs bf16 autocast on the CPU (bf16 needs no loss scaling). Spikes
    are 0/1 and exact in bf16.

    Args:
        dtype (str): ``'bfloat16'`` (default) or ``'float16'``.
        device_type (str, optional): defaults to ``'cuda'`` when available,
            else ``'cpu'``.
    """

    def __init__(self, *args, dtype='bfloat16', device_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_dtype = getattr(torch, dtype)
        self.device_type = device_type or ('cuda' if torch.cuda.is_available()
                                           else 'cpu')
        if self.device_type == 'cpu' and \
                self.autocast_dtype == torch.bfloat16:
            if not cpu_bf16_supported():
                print_log(
                    'AutocastOptimWrapper: this CPU has no native bf16 '
                    f'(capability {torch.backends.cpu.get_cpu_capability()})'
                    '; bf16 convolutions will run on a reference kernel, '
                    'tens of times slower than fp32. Train without --amp '
                    'here.', logger='current', level=30)

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model):
            with torch.autocast(self.device_type, dtype=self.autocast_dtype):
                yield
