"""Throughput and peak memory of Meta-SpikeFormer, plain and fast paths.

The plain path is the layer-by-layer model as the paper's code runs it:
unfused RepConv and BatchNorms, spikingjelly's neuron, fp32. The fast path
is the fastest this project offers for the mode:

* inference: deploy re-parameterisation (:mod:`..models.deploy`), the fused
  CPU neuron (spikingjelly's CUDA/Triton kernels on GPU),
  ``torch.inference_mode``, and bf16 autocast with ``--dtype bf16``;
* training: the fused neuron, gradient checkpointing of each block
  (``with_cp``: only block inputs are kept for backward), and bf16 autocast
  with ``--dtype bf16``.
"""
import contextlib
import os
import resource
import statistics
import time

import torch


def build_classifier(arch, T, num_classes=1000, fast=False, mode='infer'):
    from mmengine.registry import MODELS
    import spikeformer_mm  # noqa: F401
    from ..models.backbones import MetaSpikeFormer
    embed = MetaSpikeFormer.arch_settings[arch.lower()]['embed_dims'] \
        if isinstance(arch, str) else arch['embed_dims']
    neuron_cfg = dict(fused=fast)
    model = MODELS.build(dict(
        type='ImageClassifier', _scope_='mmpretrain',
        backbone=dict(type='spikeformer_mm.MetaSpikeFormer', arch=arch, T=T,
                      neuron_cfg=neuron_cfg,
                      with_cp=fast and mode == 'train'),
        head=dict(type='spikeformer_mm.SpikingClsHead',
                  num_classes=num_classes, in_channels=embed[-1],
                  neuron_cfg=neuron_cfg)))
    return model


def _rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def run_benchmark(arch='15M', T=1, batch=4, img_size=224, mode='infer',
                  dtype='fp32', fast=False, device='cpu', warmup=2,
                  repeats=5, seed=0):
    """Median images per second over ``repeats`` timed steps, and peak
    memory (CUDA: max allocated; CPU: peak RSS growth of this process over
    the built model, so run one configuration per process)."""
    if mode not in ('infer', 'train'):
        raise ValueError(f"mode must be 'infer' or 'train', got {mode!r}")
    if dtype not in ('fp32', 'bf16'):
        raise ValueError(f"dtype must be 'fp32' or 'bf16', got {dtype!r}")
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError('--device cuda: CUDA is not available here')
    torch.manual_seed(seed)
    model = build_classifier(arch, T, fast=fast, mode=mode).to(device)
    x = torch.randn(batch, 3, img_size, img_size, device=device)
    labels = torch.randint(0, 1000, (batch, ), device=device)
    if mode == 'infer':
        model.eval()
        if fast:
            from ..models.deploy import switch_to_deploy
            switch_to_deploy(model)
    else:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    amp = torch.autocast(device.split(':')[0], dtype=torch.bfloat16) \
        if dtype == 'bf16' else contextlib.nullcontext()
    grad = torch.inference_mode() if mode == 'infer' else \
        contextlib.nullcontext()

    def step():
        with grad, amp:
            feats = model.extract_feat(x)
            logits = model.head(feats)
            if mode == 'train':
                loss = torch.nn.functional.cross_entropy(logits.float(),
                                                         labels)
        if mode == 'train':
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    base_rss = _rss_mb()
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        base_cuda = torch.cuda.memory_allocated() / 2**20
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    if device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated() / 2**20 - base_cuda
    else:
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak = max(peak_rss - base_rss, 0.)
    return dict(arch=arch, T=T, batch=batch, img_size=img_size, mode=mode,
                dtype=dtype, fast=fast, device=device,
                img_per_s=batch / med, step_s=med,
                step_s_all=times, peak_mem_mb=peak,
                threads=torch.get_num_threads(), torch=torch.__version__)
