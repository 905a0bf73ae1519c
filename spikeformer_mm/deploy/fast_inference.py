"""The fastest inference form of a model, per device and number type.

Which RepConv form is fastest depends on the device and the number type:
:data:`FASTEST_REP_CONV` records what was measured (and says which rows
were not), ``rep_conv='auto'`` reads it. :func:`prepare_inference` makes
the fastest inference model: deployed, ``channels_last`` on a CPU, weights
in the inference dtype.
"""
from typing import Union

import torch
import torch.nn as nn

from .reparameterize import switch_to_deploy

# The fastest RepConv form per (device type, dtype), measured with
# ``tools/analysis_tools/benchmark.py --rep-conv dense|factorised`` (15M,
# 224 px, batch 4, channels_last; docs/speed.md). On a 2-core Xeon with
# AVX512-BF16/AMX, 2026-11-29, T=1: fp32 factorised 12.3 vs dense 8.9
# img/s, bf16 41.9 vs 26.7; T=4 bf16 5.8 vs 4.5; exported to OpenVINO,
# bf16, T=1: 37-55 vs 28-30 img/s. The CUDA rows are NOT measured (no GPU
# was at hand): the paper's dense form, which launches the fewest kernels.
FASTEST_REP_CONV = {  # (device, dtype): (form, measured)
    ('cpu', 'fp32'): ('factorised', True),
    ('cpu', 'bf16'): ('factorised', True),
    ('cuda', 'fp32'): ('dense', False),
    ('cuda', 'bf16'): ('dense', False),
    ('cuda', 'fp16'): ('dense', False),
}


def fastest_rep_conv(device: str = 'cpu', dtype: str = 'fp32') -> str:
    """The RepConv form recorded as fastest for ``device`` and ``dtype``
    (measured for CPUs; the paper's dense form, unmeasured, for CUDA)."""
    key = (torch.device(device).type, dtype)
    if key not in FASTEST_REP_CONV:
        raise ValueError(f'no measured RepConv form for device {key[0]!r} '
                         f'and dtype {dtype!r}; pass rep_conv=\'dense\' or '
                         f'\'factorised\' (measured: '
                         f'{sorted(FASTEST_REP_CONV)})')
    return FASTEST_REP_CONV[key][0]


INFERENCE_DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16,
                    'fp16': torch.float16}


def prepare_inference(model: nn.Module, device: str = 'cpu',
                      dtype: str = 'fp32', rep_conv: str = 'auto',
                      channels_last: Union[bool, None] = None) -> nn.Module:
    """The fastest inference form of a model, in place; returns it.

    1. :func:`switch_to_deploy` with the RepConv form measured fastest for
       ``device`` and ``dtype`` (``rep_conv='auto'``, :data:`FASTEST_REP_CONV`);
    2. ``channels_last`` (default: on a CPU): every 4-D weight in NHWC, and
       the backbone converts its input once, so every conv, neuron and
       attention product of the backbone runs in that layout with no
       conversion between layers;
    3. weights cast to ``dtype`` (``'bf16'``/``'fp16'``): the backbone casts
       its input once, so nothing is cast between layers (autocast would
       cast every weight at every call). For a whole classifier; mm's
       detection/segmentation post-processing expects fp32, so use
       autocast for those.

    fp32 stays exact (1e-5 against the trained model, tested); bf16
    agreement is measured on the demo sets (docs/speed.md).
    """
    if dtype not in INFERENCE_DTYPES:
        raise ValueError(f'dtype must be one of {sorted(INFERENCE_DTYPES)}, '
                         f'got {dtype!r}')
    if rep_conv == 'auto':
        rep_conv = fastest_rep_conv(device, dtype)
    switch_to_deploy(model, rep_conv)
    if channels_last is None:
        channels_last = torch.device(device).type == 'cpu'
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if dtype != 'fp32':
        model.to(INFERENCE_DTYPES[dtype])
    return model
