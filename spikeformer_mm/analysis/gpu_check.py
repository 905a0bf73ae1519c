"""The GPU check: our training and inference beside the paper's code on one
machine (``tools/analysis_tools/gpu_check.py``; docs/gpu_check.md).

Each row is one way of running Meta-SpikeFormer: the paper's code (its own
model file, spikingjelly 0.0.0.0.12 and its CuPy neuron, in a separate
interpreter: :mod:`tools.analysis_tools.paper_speed`), or ours through
:func:`.benchmark.run_benchmark` (plain, fast fp32, fast bf16, compiled,
CUDA graphs, each of spikingjelly's CUDA neuron kernels). Rows run in
priority order within a time budget, so a short GPU lease still yields the
comparisons that matter; a row that runs out of memory is retried at half
the batch (and says so). ``dry_run`` runs the same plan on the CPU at a
tiny size (the test suite's), with the compile rows traced by the
``eager`` backend and the CUDA-only rows recorded as skipped.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Callable, List, Optional

import torch

from ..compat import cpu_bf16_supported
from .benchmark import run_benchmark

# the paper's batch per GPU (its train.sh: 128 at T=1; the T=4 fine-tune 24)
PAPER_BATCH = {1: 128, 4: 24}
TINY = dict(embed_dims=[16, 32, 64, 80])  # the dry run's model
KERNEL_ROWS = ('cuda', 'triton', 'torch')  # spikingjelly's CUDA choices


def plan(dry_run: bool, paper: bool) -> List[dict]:
    """The rows, most important first: for training and inference at T=1
    and T=4, the paper's (fp16 autocast as its script trains, then fp32)
    beside our fast bf16, fast fp32 and plain paths; then compiled and
    CUDA-graph forms; then each CUDA neuron kernel."""
    steps = (1, 2) if dry_run else (1, 4)
    size = dict(arch=TINY, img_size=32) if dry_run else \
        dict(arch='15M', img_size=224)
    rows = []
    for mode in ('train', 'infer'):
        for T in steps:
            b = 2 if dry_run else PAPER_BATCH[T]
            base = dict(size, mode=mode, T=T, batch=b)
            if paper:
                rows.append(dict(base, model='paper', amp=True))
            rows.append(dict(base, model='ours', fast=True, dtype='bf16'))
            if paper:
                rows.append(dict(base, model='paper', amp=False))
            rows.append(dict(base, model='ours', fast=True, dtype='fp32'))
            rows.append(dict(base, model='ours', fast=False, dtype='fp32'))
    for mode in ('train', 'infer'):
        # (the dry run compiles at one T: tracing is its slow part)
        for T in steps[:1] if dry_run else steps:
            b = 2 if dry_run else PAPER_BATCH[T]
            for compile_mode in ('default', 'reduce-overhead'):
                rows.append(dict(size, mode=mode, T=T, batch=b, model='ours',
                                 fast=True, dtype='bf16',
                                 compile=compile_mode))
    T = steps[-1]
    for kernel in KERNEL_ROWS:
        rows.append(dict(size, mode='train', T=T,
                         batch=2 if dry_run else PAPER_BATCH[T],
                         model='ours', fast=True, dtype='bf16',
                         cuda_kernel=kernel))
    return rows


def skip_reason(row: dict, device: str) -> Optional[str]:
    """Why a row cannot run on ``device``, or None."""
    cuda = device.startswith('cuda')
    if row.get('compile') == 'reduce-overhead' and not cuda:
        return 'CUDA graphs: CUDA only'
    if row['model'] == 'ours' and row.get('dtype') == 'bf16' and \
            not cuda and not cpu_bf16_supported():
        return 'bf16: no native bf16 on this CPU'
    return None


def run_paper(row: dict, device: str, paper_repo: str, paper_path: str,
              repeats: int, warmup: int, timeout: float) -> dict:
    """One row of the paper's code, in its own interpreter with
    ``paper_path`` (its spikingjelly 0.0.0.0.12, timm, einops...) first on
    ``PYTHONPATH``."""
    tool = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
        __file__)))), 'tools', 'analysis_tools', 'paper_speed.py')
    arch = 'tiny' if isinstance(row['arch'], dict) else row['arch']
    cmd = [sys.executable, tool, paper_repo, '--arch', arch, '--T',
           str(row['T']), '--batch', str(row['batch']), '--img-size',
           str(row['img_size']), '--mode', row['mode'], '--device', device,
           '--warmup', str(warmup), '--repeats', str(repeats)] + \
        (['--amp'] if row['amp'] else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (paper_path, os.environ.get('PYTHONPATH')) if p))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ['']
        raise RuntimeError(f'paper_speed.py failed: {tail[0]}')
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_ours(row: dict, device: str, repeats: int, warmup: int,
             dry_run: bool) -> dict:
    return run_benchmark(
        arch=row['arch'], T=row['T'], batch=row['batch'],
        img_size=row['img_size'], mode=row['mode'], dtype=row['dtype'],
        fast=row['fast'], device=device, warmup=warmup, repeats=repeats,
        compile=row.get('compile'),
        compile_backend='eager' if dry_run else 'inductor',
        cuda_kernel=row.get('cuda_kernel'))


def run_check(device: str = 'cuda', dry_run: bool = False,
              paper_repo: Optional[str] = None,
              paper_path: Optional[str] = None, budget_s: float = 420.,
              repeats: int = 5, warmup: int = 3,
              log: Callable[[str], None] = print) -> dict:
    """Every row of :func:`plan` that fits ``budget_s`` seconds; the
    results with the machine's facts."""
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError('device cuda: CUDA is not available here (the '
                         'dry run: --dry-run)')
    if dry_run:
        repeats, warmup = 1, 2  # the second call recompiles once
    t0, results = time.monotonic(), []
    rows = plan(dry_run, paper_repo is not None)
    for i, row in enumerate(rows, 1):
        name = describe(row)
        reason = skip_reason(row, device)
        left = budget_s - (time.monotonic() - t0)
        if reason is None and left <= 0:
            reason = f'time budget ({budget_s:.0f} s) spent'
        if reason:
            results.append(dict(row, skipped=reason))
            log(f'[{i}/{len(rows)}] {name}: skipped ({reason})')
            continue
        batch = row['batch']
        while True:
            try:
                if row['model'] == 'paper':
                    res = run_paper(dict(row, batch=batch), device,
                                    paper_repo, paper_path, repeats, warmup,
                                    timeout=max(left, 30))
                else:
                    res = run_ours(dict(row, batch=batch), device, repeats,
                                   warmup, dry_run)
                break
            except Exception as e:  # a row that fails is a result too
                if 'out of memory' not in str(e).lower() or batch == 1:
                    said = f'{type(e).__name__}: {e}'[:300]
                    results.append(dict(row, error=said))
                    log(f'[{i}/{len(rows)}] {name}: error: {said[:200]}')
                    res = None
                    break
                batch //= 2  # the largest batch that fits
                if device.startswith('cuda'):
                    torch.cuda.empty_cache()
        if res is None:
            continue
        res = dict(row, **{k: v for k, v in res.items()
                           if k in ('img_per_s', 'step_s', 'peak_mem_mb',
                                    'rep_conv', 'channels_last')},
                   batch=batch, batch_planned=row['batch'])
        results.append(res)
        log(f'[{i}/{len(rows)}] {name}: {res["img_per_s"]:.1f} img/s, '
            f'peak {_mb(res["peak_mem_mb"])} MB' +
            (f' (batch {batch}: {row["batch"]} did not fit)'
             if batch != row['batch'] else ''))
        if device.startswith('cuda'):
            torch.cuda.empty_cache()
    return dict(environment=environment(device), dry_run=dry_run,
                budget_s=budget_s, seconds=time.monotonic() - t0,
                rows=results, goals=goals(results))


def describe(row: dict) -> str:
    what = 'paper, ' + ('fp16 autocast' if row['amp'] else 'fp32') \
        if row['model'] == 'paper' else \
        'ours, ' + ('fast ' if row['fast'] else 'plain ') + row['dtype'] + \
        (f', compile {row["compile"]}' if row.get('compile') else '') + \
        (f', kernel {row["cuda_kernel"]}' if row.get('cuda_kernel') else '')
    return f'{row["mode"]} T={row["T"]} batch {row["batch"]}: {what}'


def _mb(x):
    return '-' if x is None else f'{x:.0f}'


def goals(rows: List[dict]) -> list:
    """Issue 39's goals per mode and T: our fastest row against the
    paper's training recipe (fp16 autocast): training >= 1.5x its images/s
    at <= 0.7x its peak memory, inference >= 2x."""
    out = []
    for mode, speed in (('train', 1.5), ('infer', 2.0)):
        for T in sorted({r['T'] for r in rows}):
            paper = [r for r in rows if r['model'] == 'paper' and r['T'] == T
                     and r['mode'] == mode and r.get('amp') and
                     'img_per_s' in r]
            ours = [r for r in rows if r['model'] == 'ours' and r['T'] == T
                    and r['mode'] == mode and 'img_per_s' in r]
            if not paper or not ours:
                continue
            best = max(ours, key=lambda r: r['img_per_s'])
            ratio = best['img_per_s'] / paper[0]['img_per_s']
            mem = (best['peak_mem_mb'] / paper[0]['peak_mem_mb']) if \
                best.get('peak_mem_mb') and paper[0].get('peak_mem_mb') \
                else None
            met = ratio >= speed and (mode == 'infer' or
                                      (mem is not None and mem <= 0.7))
            out.append(dict(mode=mode, T=T, ours=describe(best),
                            speed_ratio=ratio, memory_ratio=mem,
                            target=f'>= {speed}x img/s' + (
                                ', <= 0.7x memory' if mode == 'train'
                                else ''), met=met))
    return out


def environment(device: str) -> dict:
    import platform
    from importlib.metadata import version
    env = dict(torch=torch.__version__, python=platform.python_version(),
               cpu_capability=torch.backends.cpu.get_cpu_capability(),
               spikingjelly=version('spikingjelly'),
               device=device,
               date=time.strftime('%Y-%m-%d %H:%M:%S %Z'))
    if device.startswith('cuda'):
        env.update(cuda=torch.version.cuda,
                   gpu=torch.cuda.get_device_name(),
                   gpu_memory_gb=torch.cuda.get_device_properties(
                       0).total_memory / 2**30)
    try:  # none in an installed wheel, or without git
        env['commit'] = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
            text=True, cwd=osp.dirname(osp.abspath(__file__))
        ).stdout.strip() or None
    except OSError:
        env['commit'] = None
    return env


def markdown(report: dict) -> str:
    """The report as a Markdown table; ratios are to the paper's fp16
    autocast row of the same mode and T."""
    env = report['environment']
    lines = [f'GPU check, {env["date"]}: {env.get("gpu", env["device"])}, '
             f'torch {env["torch"]}' + (f', CUDA {env["cuda"]}'
                                        if env.get('cuda') else '') +
             f', spikingjelly {env["spikingjelly"]}, commit '
             f'{env.get("commit") or "?"}' +
             (' (DRY RUN: CPU, tiny model)' if report['dry_run'] else ''),
             '', '| mode | T | batch | run | img/s | peak MB | vs paper '
             '(img/s, memory) |', '|---|---|---|---|---|---|---|']
    for r in report['rows']:
        ref = next((p for p in report['rows'] if p['model'] == 'paper' and
                    p.get('amp') and p['mode'] == r['mode'] and
                    p['T'] == r['T'] and 'img_per_s' in p), None)
        name = describe(r).split(': ', 1)[1]
        if 'img_per_s' not in r:
            lines.append(f'| {r["mode"]} | {r["T"]} | {r["batch"]} | {name} '
                         f'| {r.get("skipped") or "error: " + r["error"]} '
                         f'| | |')
            continue
        vs = ''
        if ref and r is not ref:
            vs = f'{r["img_per_s"] / ref["img_per_s"]:.2f}x'
            if r.get('peak_mem_mb') and ref.get('peak_mem_mb'):
                vs += f', {r["peak_mem_mb"] / ref["peak_mem_mb"]:.2f}x'
        batch = r['batch'] if r.get('batch_planned', r['batch']) == \
            r['batch'] else f'{r["batch"]} ({r["batch_planned"]} did not fit)'
        lines.append(f'| {r["mode"]} | {r["T"]} | {batch} | {name} | '
                     f'{r["img_per_s"]:.1f} | {_mb(r.get("peak_mem_mb"))} | '
                     f'{vs} |')
    if report['goals']:
        lines += ['', 'Goals (our fastest row against the paper\'s fp16 '
                  'autocast training recipe):', '']
        for g in report['goals']:
            mem = '' if g['memory_ratio'] is None else \
                f', {g["memory_ratio"]:.2f}x memory'
            lines.append(f'- {g["mode"]} T={g["T"]}: {g["speed_ratio"]:.2f}x '
                         f'img/s{mem} ({g["ours"]}); target '
                         f'{g["target"]}: {"met" if g["met"] else "NOT met"}')
    lines.append('')
    lines.append(f'{len(report["rows"])} rows in {report["seconds"]:.0f} s '
                 f'(budget {report["budget_s"]:.0f} s).')
    return '\n'.join(lines) + '\n'
