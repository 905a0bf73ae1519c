"""Agreement of bf16 (autocast, or the fast bf16 inference model) with fp32
on a config's test set.

Each test batch runs twice, through the model in fp32 and in low
precision, and feeds the config's own evaluator once per precision. Low
precision is ``torch.autocast(dtype=bfloat16)`` (what ``tools/test.py
--cfg-options test_cfg.fp16=True`` and ``tools/train.py --amp`` use) or,
with ``fast=True``, the model :func:`..deploy.prepare_inference`
makes (deployed, channels_last, bf16 weights: what ``benchmark.py --fast
--dtype bf16`` times; classifiers). Reported: both metric sets and
how often the predictions agree (classification: predicted labels;
segmentation: predicted pixels).
"""
import copy
from typing import Optional

import torch

from ..checkpoint import load_weights
from ..deploy import prepare_inference
from ..tasks import TASKS
from ..zoo import resolve_checkpoint


def _plain(v):
    """numpy / torch scalars -> Python numbers (for JSON)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _predictions(samples):
    """Comparable predictions of a list of data samples (the field of their
    task, :data:`~spikeformer_mm.tasks.TASKS`), or None."""
    fields = [t.prediction for t in TASKS.values() if t.prediction]
    out = []
    for s in samples:
        field = next((f for f in fields if f in s), None)
        if field is None:
            return None
        pred = s.get(field)
        out.append(getattr(pred, 'data', pred).reshape(-1).cpu())
    return torch.cat(out) if out else None


def compare_precision(cfg, checkpoint: str, dtype: str = 'bf16',
                      max_batches: Optional[int] = None,
                      progress: bool = True, strict: bool = True,
                      fast: bool = False) -> dict:
    """Run the test set of ``cfg`` (an mmengine Config) in fp32 and in
    ``dtype`` (autocast, or the fast inference model if ``fast``); return a
    report dict."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    if dtype not in ('bf16', 'fp16'):
        raise ValueError(f"dtype must be 'bf16' or 'fp16', got {dtype!r}")
    cfg = copy.deepcopy(cfg)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # the checkpoint has the weights
    cfg.work_dir = cfg.get('work_dir') or 'work_dirs/precision'
    runner = Runner.from_cfg(cfg)
    with DefaultScope.overwrite_default_scope(runner.default_scope.scope_name):
        load_weights(runner.model, resolve_checkpoint(checkpoint),
                     strict=strict)
        model = runner.model.eval()
        device = next(model.parameters()).device.type
        low_model, amp = model, True
        if fast:
            low_model = prepare_inference(copy.deepcopy(model), device, dtype)
            amp = False
        loader = runner.test_dataloader
        evaluators = {p: runner.build_evaluator(cfg.test_evaluator)
                      for p in ('fp32', dtype)}
        for ev in evaluators.values():
            ev.dataset_meta = loader.dataset.metainfo
        agree = total = 0
        n_batches = len(loader) if max_batches is None else \
            min(max_batches, len(loader))
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=n_batches, desc=f'fp32 vs {dtype}')
        for i, batch in enumerate(loader):
            if i >= n_batches:
                break
            with torch.no_grad():
                ref = model.test_step(copy.deepcopy(batch))
                with torch.autocast(
                        device, dtype=torch.bfloat16 if dtype == 'bf16'
                        else torch.float16, enabled=amp):
                    low = low_model.test_step(copy.deepcopy(batch))
            evaluators['fp32'].process(data_samples=ref, data_batch=batch)
            evaluators[dtype].process(data_samples=low, data_batch=batch)
            a, b = _predictions(ref), _predictions(low)
            if a is not None and b is not None:
                agree += int((a == b).sum())
                total += a.numel()
            if progress:
                bar.update(1)
        if progress:
            bar.close()
        size = min(len(loader.dataset), n_batches * loader.batch_size)
        metrics = {p: {k: _plain(v) for k, v in ev.evaluate(size).items()}
                   for p, ev in evaluators.items()}
    return dict(dtype=dtype, fast=fast, checkpoint=checkpoint,
                num_samples=size,
                metrics_fp32=metrics['fp32'], metrics_low=metrics[dtype],
                agreement=agree / total if total else None,
                compared=total)
