"""Inference engines beside PyTorch for a deployed model: onnxruntime and
OpenVINO on the CPU, through the ONNX export of :mod:`.onnx`."""
import os
import tempfile
from typing import Callable

import torch
import torch.nn as nn

from .onnx import export_onnx, quantize_int8

ENGINES = ('torch', 'onnxruntime', 'openvino')


def engine_step(model: nn.Module, x: torch.Tensor, engine: str, dtype: str,
                threads: int) -> Callable[[], object]:
    """A step function running ``model`` (deployed, fp32), exported to ONNX
    (int8-quantized with ``dtype='int8'``), in ``engine``: onnxruntime or
    OpenVINO (``dtype`` ``'bf16'``: its bf16 inference precision). The
    file is needed only while the engine loads it."""
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
        if engine == 'onnxruntime':
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            sess = ort.InferenceSession(path, so,
                                        providers=['CPUExecutionProvider'])
            name = sess.get_inputs()[0].name
            return lambda: sess.run(None, {name: xn})
        import openvino as ov
        # int8: OpenVINO runs the quantized convs in int8, the rest in f32
        compiled = ov.Core().compile_model(path, 'CPU', {
            'INFERENCE_PRECISION_HINT': 'bf16' if dtype == 'bf16' else 'f32',
            'PERFORMANCE_HINT': 'LATENCY',
            'INFERENCE_NUM_THREADS': threads})
    req = compiled.create_infer_request()
    return lambda: req.infer({0: xn})
