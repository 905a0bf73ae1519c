"""ONNX export of a deployed model, checked in onnxruntime.

The exported graph is the re-parameterised model (:mod:`.reparameterize`,
RepConv and BNs folded) at a fixed ``T``, with every neuron unrolled over
the time steps as plain ops (:func:`..models.neurons.unrolled_lif`: multiply,
add, compare, where), so any ONNX runtime runs it without custom ops. Its
input is the image after the config's data preprocessor (``[B, 3, H, W]``,
normalised); its outputs are

* classification: the logits ``[B, num_classes]`` (time-averaged, as the
  head computes them);
* detection and segmentation: the backbone and neck, i.e. the features the
  mm heads take (``extract_feat``); the heads themselves (RoI pooling,
  NMS, mmdet's post-processing) are left to mmdeploy-style tooling.

torch's ONNX exporter (``torch.onnx.export(dynamo=True)``, with
onnxscript) records the graph; onnxruntime then runs it on real images of
the config's val set and compares with PyTorch (:func:`check_onnx`).

int8 (:func:`quantize_int8`): onnxruntime's static quantizer on the
exported graph, convolutions and matrix products only (weights int8 per
output channel, inputs uint8 calibrated on real images). Spikes, 0 or 1,
are exact in uint8; the weights are not, so the int8 model is always
checked against PyTorch on images it was not calibrated on. The neurons'
arithmetic (membrane, threshold) stays fp32.
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn

from ..fileio import atomic_path
from ..tasks import get_task, model_task

OPSET = 18


class ExportedPart(nn.Module):
    """The part of an mm model that is exported (see the module doc)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.task = model_task(model)
        self.logits = get_task(self.task).exported == 'logits'

    def forward(self, x):
        if self.logits:
            return self.model(x, mode='tensor')
        feats = self.model.extract_feat(x)
        if feats[0].dim() == 5:  # a spiking neck keeps T: average it here
            feats = tuple(f.mean(0) for f in feats)
        return tuple(feats)


def output_names(part: 'ExportedPart', x: torch.Tensor) -> list:
    if part.logits:
        return ['logits']
    with torch.no_grad():
        n = len(part(x))
    return [f'feat{i}' for i in range(n)]


def require_deploy_packages(*names: str) -> None:
    """Raise an ``ImportError`` saying how to install what is missing."""
    import importlib.util
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        raise ImportError(f'{", ".join(missing)} not installed: pip install '
                          f'-r requirements/deploy.txt')


def export_onnx(model: nn.Module, out: str, img_size: Tuple[int, int],
                batch: int = 1, dynamic_batch: bool = False,
                optimize: bool = True) -> str:
    """Export ``model`` (deployed, eval mode) to ``out``; returns ``out``.
    The file is written atomically: a failed export leaves no file.

    ``optimize=False`` skips onnxscript's pattern rewrites (torch's
    ``optimize=True`` default) and only folds constants and drops unused
    nodes: the demo classifier at T=2 exported in 6.4 s instead of 10.5
    (the rewrites try ~200k pattern matches on the unrolled graph), the
    I-LIF one at T=1 in 6.0 instead of 12.0, 15M at T=1 (224 px) in 4.4
    instead of 6.3; the outputs were the same, the graphs had 12-25% more
    nodes, onnxruntime took 6.9 / 4.6 / 529 ms per batch of 8 against 6.9
    / 4.3 / 527 optimized (2-core AVX512 CPU, 2026-12-01)."""
    import warnings
    require_deploy_packages('onnx', 'onnxscript')  # torch's exporter's
    part = ExportedPart(model).eval()
    x = torch.randn(batch, 3, *img_size)
    names = output_names(part, x)
    shapes = None
    if dynamic_batch:
        shapes = {'x': {0: torch.export.Dim('batch', min=1, max=1024)}}
    import sys
    print(f'exporting {out} ...', file=sys.stderr, flush=True)
    with atomic_path(out, suffix='.onnx') as tmp, torch.no_grad(), \
            warnings.catch_warnings():
        warnings.simplefilter('ignore')
        prog = torch.onnx.export(
            part, (x, ), dynamo=True, opset_version=OPSET,
            input_names=['input'], output_names=names,
            dynamic_shapes=shapes, verbose=False, optimize=optimize)
        if not optimize:
            import onnxscript.optimizer
            onnxscript.optimizer.fold_constants(prog.model)
            onnxscript.optimizer.remove_unused_nodes(prog.model)
        prog.save(tmp, external_data=False)
    return out


def check_onnx(path: str, model: nn.Module,
               inputs: Sequence[torch.Tensor]) -> dict:
    """Run ``inputs`` (preprocessed batches) through onnxruntime and through
    ``model``; the largest absolute difference of the outputs and, for
    classifiers, the share of images whose top-1 class agrees."""
    import numpy as np
    import onnxruntime as ort
    import sys
    from mmengine.utils import ProgressBar
    part = ExportedPart(model).eval()
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    name = sess.get_inputs()[0].name
    max_diff, agree, n = 0.0, 0, 0
    print(f'checking {path} against PyTorch:', file=sys.stderr)
    bar = ProgressBar(len(inputs), file=sys.stderr)
    for x in inputs:
        with torch.no_grad():
            ref = part(x)
        ref = [ref] if torch.is_tensor(ref) else list(ref)
        got = sess.run(None, {name: x.numpy()})
        if len(got) != len(ref):
            raise ValueError(f'{path}: {len(got)} outputs, PyTorch gives '
                             f'{len(ref)}')
        for g, r in zip(got, ref):
            if tuple(g.shape) != tuple(r.shape):
                raise ValueError(f'{path}: output of shape {g.shape}, '
                                 f'PyTorch gives {tuple(r.shape)}')
            max_diff = max(max_diff, float(np.abs(g - r.numpy()).max()))
        if part.logits:
            agree += int((got[0].argmax(1) == ref[0].numpy().argmax(1)).sum())
        n += x.shape[0]
        bar.update()
    sys.stderr.write('\n')
    return dict(images=n, max_abs_diff=max_diff,
                top1_agreement=agree / n if part.logits else None)


# what int8 quantizes: the synaptic layers (the neurons stay fp32)
INT8_OPS = ('Conv', 'MatMul', 'Gemm')


def quantize_int8(onnx_in: str, onnx_out: str,
                  calib_inputs: Sequence[torch.Tensor]) -> str:
    """Write the static int8 form of the fp32 model ``onnx_in`` to
    ``onnx_out`` (atomically), activations calibrated on ``calib_inputs``
    (preprocessed batches of the export batch size, tensors or numpy
    arrays); returns ``onnx_out``.
    onnxruntime's quantizer does the work: QDQ format, int8 weights per
    output channel, uint8 activations, :data:`INT8_OPS` only."""
    require_deploy_packages('onnxruntime')
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_static)
    import onnxruntime as ort
    name = ort.InferenceSession(
        onnx_in, providers=['CPUExecutionProvider']).get_inputs()[0].name

    class Reader(CalibrationDataReader):

        def __init__(self):
            self.it = iter(calib_inputs)

        def get_next(self):
            x = next(self.it, None)
            if x is None:
                return None
            return {name: x.numpy() if torch.is_tensor(x) else x}

    if not calib_inputs:
        raise ValueError('int8: no calibration images')
    with atomic_path(onnx_out, suffix='.onnx') as tmp:
        quantize_static(onnx_in, tmp, Reader(),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(INT8_OPS))
    return onnx_out
