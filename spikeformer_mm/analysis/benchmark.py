"""Throughput and peak memory of Meta-SpikeFormer, plain and fast paths.

The plain path is the layer-by-layer model as the paper's code runs it:
unfused RepConv and BatchNorms, spikingjelly's neuron, fp32. The fast path
is the fastest this project offers for the mode:

* inference: :func:`..deploy.prepare_inference`: deploy
  re-parameterisation in the RepConv form measured fastest for the device
  and dtype (``rep_conv``), ``channels_last`` on a CPU, weights cast to
  bf16 with ``dtype='bf16'`` (no autocast: nothing is cast between
  layers); the fused neuron (spikingjelly's CUDA/Triton kernels on GPU),
  ``inference_mode``;
* training: the fused neuron and spikes saved bit-packed for backward
  (``compact_spikes``), ``channels_last`` on a CPU, a fused optimizer step
  (``AdamW(fused=True)``); ``with_cp=True`` adds checkpointing of each
  block's branches (least memory); bf16 autocast with ``dtype='bf16'``.
  The plain path steps the same AdamW unfused.

Other inference engines (``engine``): the fast deployed model exported to
ONNX (:mod:`..deploy.onnx`: neurons unrolled over T as plain ops) and run by
onnxruntime (fp32) or OpenVINO (fp32, or bf16 where the CPU has it: its
``INFERENCE_PRECISION_HINT``).

Memory, two figures per row: ``peak_mem_mb`` is the most tensor memory live
during one step above what was live before it (activations, gradients,
temporaries; not the weights): CUDA from the caching allocator, CPU from
the profiler's allocation events, so it does not depend on how the C
library returns memory to the system (PyTorch engine only).
``peak_rss_mb`` is the peak resident memory of the whole process
(``getrusage``: interpreter, libraries, weights, everything), the figure
that can be put beside another program's; the suite runs each row in its
own process for it.
"""
import contextlib
import statistics
import sys
import time
from typing import Callable, List, Optional, Tuple, Union

import torch

from ..compat import cpu_bf16_supported
from ..validation import check_choice
from ..deploy import ENGINES, engine_step, fastest_rep_conv, prepare_inference
from ..deploy.targets import check_target_dtype


def build_classifier(arch: Union[str, dict], T: int, num_classes: int = 1000,
                     fast: bool = False, mode: str = 'infer',
                     with_cp: bool = False) -> torch.nn.Module:
    from mmengine.registry import MODELS

    from ..models import MetaSpikeFormer
    neuron_cfg = dict(backend='fused' if fast else 'spikingjelly')
    train_fast = fast and mode == 'train'
    model = MODELS.build(dict(
        type='ImageClassifier', _scope_='mmpretrain',
        backbone=dict(type='spikeformer_mm.MetaSpikeFormer', arch=arch, T=T,
                      neuron_cfg=neuron_cfg, compact_spikes=train_fast,
                      with_cp=train_fast and with_cp),
        head=dict(type='spikeformer_mm.SpikingClsHead',
                  num_classes=num_classes, neuron_cfg=neuron_cfg,
                  in_channels=MetaSpikeFormer.channels_of(arch)[-1])))
    return model


def _cpu_peak_mb(step):
    """Run ``step`` under the profiler; the peak of live tensor bytes it
    allocated (MB)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) \
            as prof:
        step()
    events = sorted((e.start_ns(), e.nbytes())
                    for e in prof.profiler.kineto_results.events()
                    if e.name() == '[memory]')
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return peak / 2**20


COMPILE_MODES = (None, 'default', 'reduce-overhead', 'max-autotune')


def compiled_forward(model, mode: Optional[str], backend: str = 'inductor'):
    """The classifier's logits as a function of its input, through
    ``torch.compile`` in ``mode`` (None: eager)."""
    def forward(x):
        return model.head(model.extract_feat(x))
    if not mode:
        return forward
    if backend == 'inductor':
        import torch._inductor.config as inductor
        inductor.layout_optimization = False  # spikingjelly #753
    # one code object for every model: guards of an earlier model's
    # compilation (a row before, in gpu_check) failed to evaluate on this one
    torch._dynamo.reset()
    return torch.compile(forward, backend=backend,
                         mode=None if mode == 'default' or backend != 'inductor'
                         else mode)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_benchmark_args(mode: str, dtype: str, fast: bool, device: str,
                         with_cp: bool, engine: str, rep_conv: str,
                         channels_last: Union[bool, None],
                         compile: Optional[str]) -> bool:
    """Refuse a combination :func:`run_benchmark` cannot measure, naming
    the argument; return ``fast`` (an engine always runs the fast,
    deployed model)."""
    check_choice('compile', compile, COMPILE_MODES)
    if compile and engine != 'torch':
        raise ValueError('compile applies to the torch engine')
    check_choice('engine', engine, ENGINES)
    if engine != 'torch':
        if mode != 'infer' or not device.startswith('cpu'):
            raise ValueError(f'--engine {engine}: CPU inference only '
                             '(--mode infer --device cpu)')
        check_target_dtype(engine, dtype)
        fast = True  # the deployed model is what is exported
    if mode not in ('infer', 'train'):
        raise ValueError(f"mode must be 'infer' or 'train', got {mode!r}")
    if dtype not in ('fp32', 'bf16', 'int8'):
        raise ValueError(f"dtype must be 'fp32', 'bf16' or 'int8', got "
                         f"{dtype!r}")
    if dtype == 'int8' and engine == 'torch':
        raise ValueError('int8 runs in an engine (--engine onnxruntime or '
                         'openvino: the exported model, quantized)')
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError('--device cuda: CUDA is not available here')
    if dtype == 'bf16' and device == 'cpu' and not cpu_bf16_supported():
        raise ValueError(
            'bf16 on this CPU: oneDNN reports no native bf16 support '
            f'(CPU capability {torch.backends.cpu.get_cpu_capability()}), '
            'so bf16 convolutions would run on a slow reference kernel; '
            'measure fp32 here')
    if with_cp and not (fast and mode == 'train'):
        raise ValueError('with_cp applies to the fast training path only '
                         '(--fast --mode train)')
    if (rep_conv != 'auto' or channels_last is not None) and not fast:
        raise ValueError('rep_conv and channels_last choose among fast '
                         'paths: use them with --fast')
    if rep_conv != 'auto' and mode != 'infer':
        raise ValueError('rep_conv applies to inference (--mode infer)')
    return fast


def _prepare_for_inference(model: torch.nn.Module, device: str, dtype: str,
                           fast: bool, engine: str, rep_conv: str,
                           channels_last: bool) -> Tuple[str, str]:
    """Put ``model`` in eval mode and, on the fast path, in its deployed
    form; return the ``rep_conv`` chosen and the autocast dtype."""
    model.eval()
    if not fast:
        return rep_conv, dtype
    if rep_conv == 'auto':
        # the measured fastest on this device; for the engines too
        # (OpenVINO bf16, T=1: factorised 37-55 img/s, dense 28-30); int8
        # is quantized from the fp32 graph
        rep_conv = fastest_rep_conv(device,
                                    'fp32' if dtype == 'int8' else dtype)
    # an exported model is fp32 NCHW; the engine picks its own
    torch_dtype = dtype if engine == 'torch' else 'fp32'
    prepare_inference(model, device, torch_dtype, rep_conv, channels_last)
    # bf16 weights need no autocast
    return rep_conv, 'fp32' if torch_dtype != 'fp32' else dtype


def _training_step(model, forward, x, labels, amp, fast):
    """One step of the project's optimizer (AdamW, fused on the fast
    path) on cross-entropy: a closure."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05,
                            fused=fast or None)

    def step():
        with amp:
            loss = torch.nn.functional.cross_entropy(forward(x).float(),
                                                     labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def time_steps(step: Callable[[], None], warmup: int, repeats: int,
               progress: bool = False) -> List[float]:
    """Seconds of each of ``repeats`` calls of ``step`` after ``warmup``
    untimed ones; a progress bar on stderr, updated outside the timed
    region, if ``progress``."""
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(warmup + repeats, file=sys.stderr)
    for _ in range(warmup):
        step()
        if bar:
            bar.update()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if bar:
            bar.update()
    if bar:
        sys.stderr.write('\n')
    return times


def step_peak_mb(step: Callable[[], None], engine: str,
                 device: str) -> Optional[float]:
    """Peak tensor memory (MiB) of one more ``step`` above what is held
    before it; None for an engine (not torch tensors: see
    :func:`peak_rss_mb`)."""
    if engine != 'torch':
        return None
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    return _cpu_peak_mb(step)


def run_benchmark(arch: Union[str, dict] = '15M', T: int = 1, batch: int = 4,
                  img_size: int = 224, mode: str = 'infer',
                  dtype: str = 'fp32', fast: bool = False,
                  device: str = 'cpu', warmup: int = 2, repeats: int = 5,
                  seed: int = 0, with_cp: bool = False,
                  engine: str = 'torch', rep_conv: str = 'auto',
                  channels_last: Union[bool, None] = None,
                  progress: bool = False, compile: Optional[str] = None,
                  compile_backend: str = 'inductor',
                  cuda_kernel: Optional[str] = None) -> dict:
    """Median images per second over ``repeats`` timed steps, and the peak
    memory of one more step (see the module docstring). ``progress``: a
    progress bar of the steps on stderr (updated outside the timed
    region). ``compile``: the forward through ``torch.compile`` in this
    mode (``'default'``, ``'reduce-overhead'``: CUDA graphs,
    ``'max-autotune'``) with ``compile_backend`` (``'eager'`` traces without
    generating code: the dry run's), inductor's layout optimisation off
    (with ``channels_last`` it made spikingjelly's models 0.80x eager, its
    #753). ``cuda_kernel``: spikingjelly's CUDA implementation of the
    neurons (:func:`~spikeformer_mm.models.neurons.set_cuda_kernel`)."""
    fast = check_benchmark_args(mode, dtype, fast, device, with_cp, engine,
                                rep_conv, channels_last, compile)
    if cuda_kernel is not None:
        from ..models.neurons import set_cuda_kernel
        set_cuda_kernel(cuda_kernel)
    torch.manual_seed(seed)
    model = build_classifier(arch, T, fast=fast, mode=mode,
                             with_cp=with_cp).to(device)
    x = torch.randn(batch, 3, img_size, img_size, device=device)
    labels = torch.randint(0, 1000, (batch, ), device=device)
    if channels_last is None:
        channels_last = fast and engine == 'torch' and \
            torch.device(device).type == 'cpu'
    amp_dtype = dtype
    if mode == 'infer':
        rep_conv, amp_dtype = _prepare_for_inference(
            model, device, dtype, fast, engine, rep_conv, channels_last)
    else:
        model.train()
        if channels_last:
            model.to(memory_format=torch.channels_last)
    amp = torch.autocast(device.split(':')[0], dtype=torch.bfloat16) \
        if amp_dtype == 'bf16' else contextlib.nullcontext()
    forward = compiled_forward(model, compile, compile_backend)
    if engine != 'torch':
        run = engine_step(model, x, engine, dtype, torch.get_num_threads())
    elif mode == 'train':
        run = _training_step(model, forward, x, labels, amp, fast)
    else:
        def run():
            with torch.inference_mode(), amp:
                forward(x)

    def step():
        run()
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    times = time_steps(step, warmup, repeats, progress)
    med = statistics.median(times)
    return dict(arch=arch, T=T, batch=batch, img_size=img_size, mode=mode,
                dtype=dtype, fast=fast, with_cp=with_cp, device=device,
                compile=compile, compile_backend=compile_backend if compile
                else None, cuda_kernel=cuda_kernel,
                rep_conv=rep_conv if fast and mode == 'infer' else None,
                channels_last=bool(channels_last),
                engine=engine, img_per_s=batch / med, step_s=med,
                step_s_all=times, peak_mem_mb=step_peak_mb(step, engine,
                                                           device),
                peak_rss_mb=peak_rss_mb(),
                threads=torch.get_num_threads(), torch=torch.__version__,
                cpu_capability=torch.backends.cpu.get_cpu_capability())
