"""ONNX export of a deployed model, checked in onnxruntime.

The exported graph is the re-parameterised model (:mod:`.models.deploy`,
RepConv and BNs folded) at a fixed ``T``, with every neuron unrolled over
the time steps as plain ops (:func:`.models.neurons.unrolled_lif`: multiply,
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
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .fileio import atomic_path

OPSET = 18


def model_task(model) -> str:
    """'classification', 'detection' or 'segmentation' for an mm model."""
    if hasattr(model, 'decode_head'):
        return 'segmentation'
    if hasattr(model, 'rpn_head') or hasattr(model, 'bbox_head') or \
            hasattr(model, 'roi_head'):
        return 'detection'
    return 'classification'


class ExportedPart(nn.Module):
    """The part of an mm model that is exported (see the module doc)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.task = model_task(model)

    def forward(self, x):
        if self.task == 'classification':
            return self.model(x, mode='tensor')
        feats = self.model.extract_feat(x)
        if feats[0].dim() == 5:  # a spiking neck keeps T: average it here
            feats = tuple(f.mean(0) for f in feats)
        return tuple(feats)


def output_names(part, x) -> list:
    if part.task == 'classification':
        return ['logits']
    with torch.no_grad():
        n = len(part(x))
    return [f'feat{i}' for i in range(n)]


def require_deploy_packages(*names):
    """Raise an ``ImportError`` saying how to install what is missing."""
    import importlib.util
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        raise ImportError(f'{", ".join(missing)} not installed: pip install '
                          f'-r requirements/deploy.txt')


def export_onnx(model, out: str, img_size: Tuple[int, int],
                batch: int = 1, dynamic_batch: bool = False) -> str:
    """Export ``model`` (deployed, eval mode) to ``out``; returns ``out``.
    The file is written atomically: a failed export leaves no file."""
    import warnings
    require_deploy_packages('onnx', 'onnxscript')  # torch's exporter's
    part = ExportedPart(model).eval()
    x = torch.randn(batch, 3, *img_size)
    names = output_names(part, x)
    shapes = None
    if dynamic_batch:
        shapes = {'x': {0: torch.export.Dim('batch', min=1, max=1024)}}
    with atomic_path(out, suffix='.onnx') as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        prog = torch.onnx.export(
            part, (x, ), dynamo=True, opset_version=OPSET,
            input_names=['input'], output_names=names,
            dynamic_shapes=shapes, verbose=False)
        prog.save(tmp, external_data=False)
    return out


def check_onnx(path: str, model, inputs: Sequence[torch.Tensor]) -> dict:
    """Run ``inputs`` (preprocessed batches) through onnxruntime and through
    ``model``; the largest absolute difference of the outputs and, for
    classifiers, the share of images whose top-1 class agrees."""
    import numpy as np
    import onnxruntime as ort
    part = ExportedPart(model).eval()
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    name = sess.get_inputs()[0].name
    max_diff, agree, n = 0.0, 0, 0
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
        if part.task == 'classification':
            agree += int((got[0].argmax(1) == ref[0].numpy().argmax(1)).sum())
        n += x.shape[0]
    return dict(images=n, max_abs_diff=max_diff,
                top1_agreement=agree / n if part.task == 'classification'
                else None)


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


def val_inputs(cfg, model, num_images: int,
               img_size: Optional[Tuple[int, int]] = None, batch: int = 8):
    """Preprocessed batches (of up to ``batch``) of the config's val images,
    resized to ``img_size`` (default: the first image's size; the exported
    graph has a fixed image size)."""
    from .analysis.runner import dataset_batches
    images = []
    for one in dataset_batches(cfg, num_images):
        x = model.data_preprocessor(one, False)['inputs']
        if img_size is None:
            img_size = tuple(x.shape[-2:])
        if tuple(x.shape[-2:]) != tuple(img_size):
            x = nn.functional.interpolate(x, size=tuple(img_size),
                                          mode='bilinear',
                                          align_corners=False)
        images.append(x)
    if not images:
        raise ValueError('the config\'s test/val dataset gave no images')
    x = torch.cat(images)
    return list(x.split(batch))


def export_and_check(config: str, checkpoint: Optional[str], out: str,
                     T: Optional[int] = None,
                     img_size: Optional[Tuple[int, int]] = None,
                     dynamic_batch: bool = False, num_images: int = 32,
                     random_images: bool = False, cfg_options=None,
                     deploy: str = 'dense', min_agreement: float = 0.99,
                     atol: float = 1e-3, int8: Optional[str] = None,
                     calib_images: int = 32,
                     min_int8_agreement: float = 0.95) -> dict:
    """Build the deployed model of ``config`` (at ``T`` time steps), export
    it to ``out`` and check it in onnxruntime. A classifier whose top-1
    agreement is below ``min_agreement``, or any model whose outputs differ
    by more than ``atol`` (features) raises ``ValueError``: the file is kept
    for inspection, the caller is told.

    With ``int8`` (a path; classifiers), the model is also quantized
    (:func:`quantize_int8`) on the first ``calib_images`` val images and
    checked on the ``num_images`` after them; below
    ``min_int8_agreement`` it is an error (the file kept)."""
    from .apis import init_model, load_config
    require_deploy_packages('onnx', 'onnxscript', 'onnxruntime')
    if int8 is not None:
        if osp.abspath(int8) == osp.abspath(out):
            raise ValueError(f'--int8 {int8}: the same file as OUT; the int8 '
                             'model is made from the fp32 one')
        if calib_images < 1:
            raise ValueError(f'--calib-images must be >= 1, got '
                             f'{calib_images}')
    opts = dict(cfg_options or {})
    if T is not None:
        if T < 1:
            raise ValueError(f'--T must be >= 1, got {T}')
        opts['model.backbone.T'] = T
    cfg = load_config(config, opts)
    model = init_model(cfg, checkpoint, deploy=deploy)
    if int8 is not None and model_task(model) != 'classification':
        raise ValueError('--int8: the int8 model is checked by its top-1 '
                         'agreement, so classifiers only (this config is '
                         f'{model_task(model)})')
    n_calib = calib_images if int8 is not None else 0
    if random_images:
        img_size = tuple(img_size or (224, 224))
        g = torch.Generator().manual_seed(0)
        inputs = list(torch.randn(n_calib + num_images, 3, *img_size,
                                  generator=g).split(8))
    else:
        inputs = val_inputs(cfg, model, n_calib + num_images, img_size)
        img_size = tuple(inputs[0].shape[-2:])
    calib = []
    if n_calib:  # calibration images are never the checked ones
        flat = torch.cat(inputs)
        if flat.shape[0] <= n_calib:
            raise ValueError(f'--int8: the val set has {flat.shape[0]} '
                             f'images, not more than --calib-images '
                             f'{n_calib}')
        calib = list(flat[:n_calib].split(8))
        inputs = list(flat[n_calib:].split(8))
    export_onnx(model, out, img_size, batch=inputs[0].shape[0],
                dynamic_batch=dynamic_batch)
    if not dynamic_batch:  # the graph takes its export batch size only
        b = inputs[0].shape[0]
        inputs = [x for x in inputs if x.shape[0] == b]
    res = check_onnx(out, model, inputs)
    res.update(onnx=out, T=cfg.model.backbone.T, img_size=list(img_size),
               task=model_task(model), size_mb=osp.getsize(out) / 2**20)
    agreement = res['top1_agreement']
    if agreement is not None and agreement < min_agreement:
        raise ValueError(
            f'onnxruntime disagrees with PyTorch: top-1 agreement '
            f'{agreement:.4f} < {min_agreement} on {res["images"]} images '
            f'(max |logit difference| {res["max_abs_diff"]:.3g}); {out} '
            f'kept for inspection')
    if agreement is None and res['max_abs_diff'] > atol:
        raise ValueError(
            f'onnxruntime disagrees with PyTorch: max |feature difference| '
            f'{res["max_abs_diff"]:.3g} > {atol}; {out} kept for inspection')
    if int8 is not None:
        if not dynamic_batch:  # the graph takes its export batch size only
            b = inputs[0].shape[0]
            calib = [x for x in calib if x.shape[0] == b]
            if not calib:
                raise ValueError('--int8: too few calibration images for '
                                 f'one batch of {b} (--calib-images)')
        quantize_int8(out, int8, calib)
        q = check_onnx(int8, model, inputs)
        q.update(onnx=int8, calibrated_on=sum(x.shape[0] for x in calib),
                 size_mb=osp.getsize(int8) / 2**20)
        res['int8'] = q
        if q['top1_agreement'] < min_int8_agreement:
            raise ValueError(
                f'int8 model disagrees with PyTorch fp32: top-1 agreement '
                f'{q["top1_agreement"]:.4f} < {min_int8_agreement} on '
                f'{q["images"]} images; {int8} kept for inspection')
    return res
