"""Inference engines for a deployed model: PyTorch itself, and the export
targets of :mod:`.targets` (onnxruntime, OpenVINO on the CPU) through the
ONNX export of :mod:`.onnx`."""
import os
import tempfile
from typing import Callable

import torch
import torch.nn as nn

from .onnx import export_onnx, quantize_int8
from .targets import TARGETS, get_target

# every --engine choice of the tools
ENGINES = ('torch', *TARGETS)


def engine_step(model: nn.Module, x: torch.Tensor, engine: str, dtype: str,
                threads: int) -> Callable[[], object]:
    """A step function running ``model`` (deployed, fp32), exported to ONNX
    (int8-quantized with ``dtype='int8'``), in the export target
    ``engine`` (:data:`~.targets.TARGETS`). The file is needed only while
    the engine loads it."""
    target = get_target(engine)
    xn = x.numpy()
    with tempfile.TemporaryDirectory(prefix='spikeformer-bench-') as d:
        path = os.path.join(d, 'model.onnx')
        export_onnx(model, path, tuple(x.shape[-2:]), batch=x.shape[0])
        if dtype == 'int8':  # calibrated on the benchmark's own inputs:
            # a speed figure; accuracy is export_onnx.py --int8's
            g = torch.Generator().manual_seed(1)
            # numpy arrays: torch tensors would cross to the child through
            # torch's shared-memory reductions (crashed here)
            calib = [xn] + [torch.randn(x.shape, generator=g).numpy()
                            for _ in range(3)]
            # in a child process: calibration memory is not the engine's,
            # and this process's peak RSS is the row's figure
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(
                    1, mp_context=mp.get_context('spawn')) as pool:
                path = pool.submit(quantize_int8, path,
                                   os.path.join(d, 'int8.onnx'),
                                   calib).result()
        run = target.session(path, dtype, threads)
    return lambda: run(xn)
