"""Export a config's model to ONNX and check it (the ``export_onnx.py``
tool): :mod:`spikeformer_mm.deploy.onnx` on the config's val images."""
import os.path as osp
from typing import Optional, Tuple

import torch

from ..deploy.onnx import (check_onnx, export_onnx, quantize_int8,
                           require_deploy_packages)
from ..tasks import get_task, model_task
from .config import load_config, with_T
from .data import val_inputs
from .inference import init_model


def _calibration_and_check_inputs(cfg, model, n_calib, num_images,
                                  img_size, random_images):
    """Batches of 8 of ``n_calib`` calibration images and the
    ``num_images`` after them (never the same), from the val set or random;
    and the image size."""
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
    return calib, inputs, img_size


def _check_agreement(res, out, min_agreement, atol):
    """Raise ``ValueError`` (the file kept) when onnxruntime's outputs of
    ``out`` disagree with PyTorch's: top-1 below ``min_agreement`` for a
    classifier, else features more than ``atol`` apart."""
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


def _export_and_check_int8(out, int8, model, calib, inputs, dynamic_batch,
                           min_int8_agreement):
    """Quantize ``out`` into ``int8`` on ``calib`` and check it on
    ``inputs`` against PyTorch fp32: its report."""
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
    if q['top1_agreement'] < min_int8_agreement:
        raise ValueError(
            f'int8 model disagrees with PyTorch fp32: top-1 agreement '
            f'{q["top1_agreement"]:.4f} < {min_int8_agreement} on '
            f'{q["images"]} images; {int8} kept for inspection')
    return q


def export_and_check(config: str, checkpoint: Optional[str], out: str,
                     T: Optional[int] = None,
                     img_size: Optional[Tuple[int, int]] = None,
                     dynamic_batch: bool = False, num_images: int = 32,
                     random_images: bool = False, cfg_options=None,
                     deploy: str = 'dense', min_agreement: float = 0.99,
                     atol: float = 1e-3, int8: Optional[str] = None,
                     calib_images: int = 32,
                     min_int8_agreement: float = 0.95,
                     optimize: bool = True) -> dict:
    """Build the deployed model of ``config`` (at ``T`` time steps), export
    it to ``out`` and check it in onnxruntime. A classifier whose top-1
    agreement is below ``min_agreement``, or any model whose outputs differ
    by more than ``atol`` (features) raises ``ValueError``: the file is kept
    for inspection, the caller is told.

    With ``int8`` (a path; classifiers), the model is also quantized
    (:func:`quantize_int8`) on the first ``calib_images`` val images and
    checked on the ``num_images`` after them; below
    ``min_int8_agreement`` it is an error (the file kept). ``optimize``:
    see :func:`~spikeformer_mm.deploy.onnx.export_onnx`."""
    require_deploy_packages('onnx', 'onnxscript', 'onnxruntime')
    if int8 is not None:
        if osp.abspath(int8) == osp.abspath(out):
            raise ValueError(f'--int8 {int8}: the same file as OUT; the int8 '
                             'model is made from the fp32 one')
        if calib_images < 1:
            raise ValueError(f'--calib-images must be >= 1, got '
                             f'{calib_images}')
    cfg = load_config(config, with_T(cfg_options, T))
    model = init_model(cfg, checkpoint, deploy=deploy)
    if int8 is not None and \
            get_task(model_task(model)).exported != 'logits':
        raise ValueError('--int8: the int8 model is checked by its top-1 '
                         'agreement, so classifiers only (this config is '
                         f'{model_task(model)})')
    n_calib = calib_images if int8 is not None else 0
    calib, inputs, img_size = _calibration_and_check_inputs(
        cfg, model, n_calib, num_images, img_size, random_images)
    export_onnx(model, out, img_size, batch=inputs[0].shape[0],
                dynamic_batch=dynamic_batch, optimize=optimize)
    if not dynamic_batch:  # the graph takes its export batch size only
        b = inputs[0].shape[0]
        inputs = [x for x in inputs if x.shape[0] == b]
    res = check_onnx(out, model, inputs)
    res.update(onnx=out, T=cfg.model.backbone.T, img_size=list(img_size),
               task=model_task(model), size_mb=osp.getsize(out) / 2**20)
    _check_agreement(res, out, min_agreement, atol)
    if int8 is not None:
        res['int8'] = _export_and_check_int8(out, int8, model, calib, inputs,
                                             dynamic_batch,
                                             min_int8_agreement)
    return res
