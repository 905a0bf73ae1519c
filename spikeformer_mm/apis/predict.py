"""One input file through a loaded model, with a picture of the result: what
``demo/*_demo.py`` and the browser demo (``projects/gradio_demo``) show.
Each uses its toolbox's own inference and visualizer."""
import copy
from typing import Optional

import numpy as np
import torch

from ..visualization import (display_scale, read_image, upscale,
                             upscale_det_sample, upscale_seg_sample)
from .data import file_batch

# The score a detection needs to be shown by the demos (demo/det_demo.py,
# the browser demo): below it the digits detector's boxes are mostly a
# second guess over a digit already found (a "4: 0.34" over a 9).
DEMO_SCORE_THR = 0.5


def classify(model, path: str, out: Optional[str] = None,
             topk: int = 5) -> list:
    """``[(class, score), ...]``, best first, of an image (or, for an event
    config, an event recording) through the classifier ``model`` (no
    picture: ``out`` is not written)."""
    data = file_batch(model.cfg, path)
    with torch.no_grad():
        sample = model.test_step(data)[0]
    scores = sample.pred_score.cpu().numpy()
    classes = (model.dataset_meta or {}).get('classes') or \
        [str(i) for i in range(len(scores))]
    order = scores.argsort()[::-1][:topk]
    return [(classes[i], float(scores[i])) for i in order]


def detect(model, path: str, out: Optional[str] = None,
           score_thr: float = DEMO_SCORE_THR, min_side: int = 512) -> list:
    """mmdet's ``inference_detector`` on the image ``path``; the detections
    above ``score_thr`` as ``[(class, score, [x1, y1, x2, y2]), ...]``, drawn
    by mmdet's visualizer into ``out`` (a small image scaled up)."""
    from mmdet.apis import inference_detector
    from mmdet.registry import VISUALIZERS
    img = read_image(path)
    result = inference_detector(model, path)
    if out:
        s = display_scale(img.shape, min_side)
        vis = VISUALIZERS.build(dict(type='DetLocalVisualizer',
                                     name='spikeformer_det'))
        vis.dataset_meta = model.dataset_meta
        vis.add_datasample('result', upscale(img, s),
                           data_sample=upscale_det_sample(result, s),
                           draw_gt=False, pred_score_thr=score_thr,
                           out_file=out)
    inst = result.pred_instances
    keep = inst.scores >= score_thr
    classes = (model.dataset_meta or {}).get('classes')
    return [(classes[label] if classes else str(int(label)), float(score),
             [round(float(v), 1) for v in box])
            for box, label, score in zip(inst.bboxes[keep], inst.labels[keep],
                                         inst.scores[keep])]


def segment(model, path: str, out: Optional[str] = None,
            opacity: float = 0.5, min_side: int = 512) -> list:
    """mmseg's ``inference_model`` on the image ``path``; the classes by
    share of pixels ``[(class, percent), ...]``, the segmentation drawn
    over the image by mmseg's visualizer into ``out``."""
    from mmseg.apis import inference_model
    from mmseg.visualization import SegLocalVisualizer
    img = read_image(path)
    result = inference_model(model, path)
    if out:
        s = display_scale(img.shape, min_side)
        vis = SegLocalVisualizer(name='spikeformer_seg', alpha=opacity)
        vis.dataset_meta = model.dataset_meta
        vis.add_datasample('result', upscale(img, s),
                           data_sample=upscale_seg_sample(result, s),
                           draw_gt=False, out_file=out, with_labels=True)
    pred = result.pred_sem_seg.data[0].cpu().numpy()
    classes = model.dataset_meta['classes']
    ids, counts = np.unique(pred, return_counts=True)
    return [(classes[i], 100.0 * c / pred.size)
            for i, c in sorted(zip(ids, counts), key=lambda t: -t[1])]


def energy_of_file(model, path: str, convention: str = 'measured') -> dict:
    """The energy report (:class:`~spikeformer_mm.analysis.energy_meter.
    EnergyMeter`, deployed, integer spikes in binary form) of ``model`` on
    the one input ``path``; ``model`` itself is left as it is."""
    from ..analysis.energy_meter import EnergyMeter
    from ..deploy import expand_to_binary, switch_to_deploy
    from ..deploy.binary_expansion import integer_neurons
    from .energy import backbone_T
    m = switch_to_deploy(copy.deepcopy(model))
    data = m.data_preprocessor(file_batch(model.cfg, path), False)
    if integer_neurons(m):
        expand_to_binary(m, lambda: m(**data, mode='predict'))
    meter = EnergyMeter(m, backbone_T(m), convention)
    meter.run(lambda: m(**data, mode='predict'), 1)
    meter.remove()
    return meter.report()


def predict_file(model, path: str, out: Optional[str] = None):
    """``path`` through ``model`` with its task's predictor
    (:data:`~spikeformer_mm.tasks.TASKS`): ``(task, result)``; the
    picture of a detection or segmentation goes to ``out``."""
    from ..tasks import get_task, model_task
    task = model_task(model)
    return task, globals()[get_task(task).predictor](model, path, out)

