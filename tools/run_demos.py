"""The main job: train and evaluate Meta-SpikeFormer on the embedded digits.

    python tools/run_demos.py [--tasks classification] [--work-dir work_dirs/demo]
                              [--seeds N] [--kernel-sets native,avx2]
                              [--record docs/results/NAME.json] [--smoke]
                              [--jobs N] [--nproc N]
    python tools/run_demos.py --pool A.json B.json [--tasks ...] --record P.json

For each task it builds the data if absent (scikit-learn's bundled digits,
no download), trains with tools/train.py, evaluates the final checkpoint
with tools/test.py, prints a results table with each task's time and adds
its entry to ``<work-dir>/summary.json``.

With ``--seeds N`` each task is trained N times, with training seeds 0..N-1
(``randomness.seed``; the data stay the same), in ``<work-dir>/<task>/seed<k>``;
a task that starts from another (``starts_from``: the dense tasks from
the classifier, the event detector from the event classifier) takes that
task's checkpoint of seed k. The summary
entry then holds every run (``runs``) and each metric's mean, std
(sample, n-1), min and max (``spread``), and the table prints mean ± std.

fp32 training is not bit-identical across CPU kinds (each kind's kernels
round differently, and a spiking network turns a rounding into a spike that
fires or not), so a spread over seeds on one machine does not cover what
users see. ``--kernel-sets native,avx2`` runs every seed under each kernel
set (``KERNEL_SETS``: the environment that makes torch and oneDNN use that
instruction set, on this machine) in ``seed<k>-<set>`` folders (the native
set keeps ``seed<k>``); the spread is then over seeds x kernel sets, and
``spread_by_kernel_set`` gives each set's own. A task of seed k and kernel set s
starts from its start task's run of the same seed and set.

``--record FILE`` writes the run record that the README's figures come
from: per run its config, seed, kernel set, the CPU capability torch chose
under it, CPU model, torch version, date, commit, metrics and seconds,
each task's spread, and the digest of each embedded dataset under data/
(``data``: the same digest on two machines, the same bytes read). It never
replaces an existing record.

``--jobs N`` trains N runs of a task side by side, each with cores / N
threads (the runs of one task are independent). On a 2-core CPU an
event-detector iteration on one thread beside another run took about as
long as alone on two (0.32 s; docs/results/
event_detection_recipe_search_2026-12-07b.json: its time goes to small
operators more than to wide convolutions), so ``--jobs 2`` about halves
the wall time of a multi-seed record; each run records its ``threads``
and ``parallel_runs``, and its seconds are those of a shared machine.

``--nproc N`` trains each run as N processes (torchrun on this machine,
``--launcher pytorch``: distributed data parallel, gloo on a CPU), each
with 1/N of the config's training batch (the recipe stays the config's:
the same batch, steps and learning rate) and cores / (jobs x N) threads;
the test runs in one process. Where one run gains nothing from a second
thread, two processes use both cores for it: an event-detector iteration
(batch 4) took 0.227 s on one thread and 0.19 s as two processes of
batch 2 (docs/results/event_detection_nproc_amd_2026-12-07.json).

``--pool A.json B.json --record P.json`` trains nothing: it writes one
summary of ``--tasks`` over the runs of records made on different machines
(``spikeformer_mm.analysis.run_record.pool_records``: the pooled spread and
each CPU's), for a range that should hold on every kind of CPU measured.
"""
import argparse
import concurrent.futures
import functools
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from spikeformer_mm.analysis.run_record import (  # noqa: E402,F401
    pool_records, provenance, refuse_existing_record, spread, write_record)
from spikeformer_mm.fileio import read_json, write_json  # noqa: E402

def subset(n_train, n_val):
    """cfg-options that keep the first samples of each split (smoke runs)."""
    return [f'train_dataloader.dataset.indices={n_train}',
            f'val_dataloader.dataset.indices={n_val}',
            f'test_dataloader.dataset.indices={n_val}']


# task -> config, metrics to report {summary key: metric}, cfg-options that
# shrink the run for --smoke, and the task whose checkpoint its backbone
# starts from (``starts_from``: the run of the same seed and kernel set).
DETECTION = dict(  # both detectors
    metrics={'bbox_mAP_50': 'coco/bbox_mAP_50',
             'segm_mAP_50': 'coco/segm_mAP_50',
             'bbox_mAP': 'coco/bbox_mAP', 'segm_mAP': 'coco/segm_mAP'},
    # bounded but learning (~110 s: 3 epochs of 256 images from the bounded
    # classifier), so tests hold a floor; see docs/results/smoke_*.json
    smoke=['train_cfg.max_epochs=3', 'train_cfg.val_interval=3'] +
    subset(256, 32),
    starts_from='classification')
# bounded, but long enough to learn (100 iterations, ~50 s; a faster weight
# average, else it still holds the first weights): 43.4 +- 5.6% top-1
# (35.4-49.0) over seeds 0-2 x native/AVX2 kernels, chance is 10%
# (docs/results/smoke_2026-12-06.json)
CLASSIFICATION_SMOKE = ['train_cfg.max_epochs=10', 'train_cfg.val_interval=10',
                        'custom_hooks.0.momentum=0.5'] + subset(320, 96)
TASKS = {
    'classification': dict(
        config='configs/classification/metaspikeformer-demo_1xb32_digits-t2.py',
        metrics={'top1': 'accuracy/top1'},
        smoke=CLASSIFICATION_SMOKE,
    ),
    'detection': dict(
        config='configs/detection/mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py',
        **DETECTION,
    ),
    'segmentation': dict(
        config='configs/segmentation/fpn_metaspikeformer-demo_digits-64x64-t2.py',
        metrics={'mIoU': 'mIoU'},
        # bounded but learning (~90 s: 300 iterations on 256 images)
        smoke=['train_cfg.max_iters=300', 'train_cfg.val_interval=300',
               'default_hooks.checkpoint.interval=300'] + subset(256, 32),
        starts_from='classification',
    ),
    # the paper's fully spiking detector (time kept until the logits; run
    # on request: --tasks detection-spiking)
    'detection-spiking': dict(
        config='configs/detection/'
               'mask-rcnn_metaspikeformer-demo_spikefpn_digits-t2.py',
        **DETECTION,
        on_request=True,
    ),
    # the classifier with integer-valued spikes (I-LIF, T=1, D=4; run on
    # request: --tasks classification-ilif), the same schedule
    'classification-ilif': dict(
        config='configs/classification/'
               'metaspikeformer-demo-ilif-d4_1xb32_digits-t1.py',
        metrics={'top1': 'accuracy/top1'},
        smoke=CLASSIFICATION_SMOKE,
        on_request=True,
    ),
    # E-SpikeFormer (V3's base model, T=1, counts 0..4 / 4) at the binary
    # classifier's widths, the same schedule (run on request: --tasks
    # classification-v3)
    'classification-v3': dict(
        config='configs/classification/e-spikeformer-demo_1xb32_digits-t1.py',
        metrics={'top1': 'accuracy/top1'},
        smoke=CLASSIFICATION_SMOKE,
        on_request=True,
    ),
    # projects/event_digits: event-camera input (run on request:
    # --tasks event)
    'event': dict(
        config='projects/event_digits/configs/'
               'metaspikeformer-demo_1xb32_event-digits-t4.py',
        metrics={'top1': 'accuracy/top1'},
        # bounded but learning (~30 s): 3 epochs of 256 recordings
        smoke=['train_cfg.max_epochs=3', 'train_cfg.val_interval=3'] +
        subset(256, 64),
        starts_from='classification',
        on_request=True,
    ),
    # event-camera detection: Faster R-CNN on moving digits recorded in
    # Prophesee's Gen1 format (run on request: --tasks event-detection),
    # its backbone from the event classifier (first conv included: it reads
    # ON/OFF counts already)
    'event-detection': dict(
        config='projects/event_digits/configs/'
               'faster-rcnn_metaspikeformer-demo_fpn_moving-digits-t2.py',
        metrics={'bbox_mAP_50': 'coco/bbox_mAP_50',
                 'bbox_mAP': 'coco/bbox_mAP'},
        # bounded but learning (~75 s): 48 recordings (144 label times),
        # 3 epochs (the cosine ending with them), built in a folder of
        # their own
        smoke=['train_cfg.max_epochs=3', 'train_cfg.val_interval=3',
               'param_scheduler.1.T_max=3', 'param_scheduler.1.end=3'] + [
            f'{s}_dataloader.dataset.{k}' for s in ('train', 'val', 'test')
            for k in ('data_root=data/moving_digits_smoke',
                      'build.num_train=48', 'build.num_val=12')],
        starts_from='event',
        on_request=True,
    ),
}
DEFAULT_TASKS = [t for t, spec in TASKS.items() if not spec.get('on_request')]


# kernel set -> the environment that makes torch's ATen kernels and oneDNN
# use that instruction set (at most what the CPU has: each run records the
# capability torch chose). 'native' removes both variables.
KERNEL_ENV = ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA')
KERNEL_SETS = {
    'native': {},
    'avx2': {'ATEN_CPU_CAPABILITY': 'avx2', 'ONEDNN_MAX_CPU_ISA': 'AVX2'},
    'avx512': {'ATEN_CPU_CAPABILITY': 'avx512',
               'ONEDNN_MAX_CPU_ISA': 'AVX512_CORE'},
    'default': {'ATEN_CPU_CAPABILITY': 'default',
                'ONEDNN_MAX_CPU_ISA': 'SSE41'},
}


def kernel_env(kernel_set):
    """This process's environment with ``kernel_set``'s variables."""
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_ENV}
    env.update(KERNEL_SETS[kernel_set])
    return env


_SAY = threading.Lock()


def say(line):
    """Print one whole line (runs side by side print from threads)."""
    with _SAY:
        print(line, flush=True)


def thread_env(threads):
    """The variables that give a run ``threads`` threads (torch's intra-op
    pool and MKL's); none for None (torch's default: every core)."""
    return {} if threads is None else {
        'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}


def run(cmd, kernel_set='native', threads=None, log=None):
    """``python cmd`` under ``kernel_set`` with ``threads`` threads; its
    output to the terminal, or appended to the file ``log`` (runs side by
    side, ``--jobs``); exits with a message naming the command (and the
    log) if it fails."""
    env = dict(kernel_env(kernel_set), **thread_env(threads))
    say(' '.join(['$'] + [f'{k}={v}' for k, v in dict(
        KERNEL_SETS[kernel_set], **thread_env(threads)).items()] +
        ['python'] + cmd + (['>>', log] if log else [])))
    if log:
        with open(log, 'a') as f:
            r = subprocess.run([sys.executable] + cmd, cwd=ROOT, env=env,
                               stdout=f, stderr=subprocess.STDOUT)
    else:
        r = subprocess.run([sys.executable] + cmd, cwd=ROOT, env=env)
    if r.returncode != 0:
        sys.exit(f'error: {" ".join(cmd)} failed with exit code '
                 f'{r.returncode}' + (f'; its output: {log}' if log else ''))


def data_digests(data_root=osp.join(ROOT, 'data')):
    """``{folder: digest}`` of every dataset built under ``data_root`` (the
    embedded data the runs read; ``spikeformer_mm.datasets.dataset_digest``):
    kept in the run record, so that runs on two machines can be told to have
    read the same bytes."""
    from spikeformer_mm.datasets import dataset_digest
    names = sorted(os.listdir(data_root)) if osp.isdir(data_root) else []
    digests = {n: dataset_digest(osp.join(data_root, n)) for n in names}
    return {n: d for n, d in digests.items() if d}


@functools.lru_cache(maxsize=None)
def cpu_capability(kernel_set='native'):
    """``torch.backends.cpu.get_cpu_capability()`` under ``kernel_set``."""
    return subprocess.run(
        [sys.executable, '-c', 'import torch; '
         'print(torch.backends.cpu.get_cpu_capability())'],
        env=kernel_env(kernel_set), capture_output=True, text=True,
        check=True).stdout.strip()


def run_dir(wd, seed=None, kernel_set='native'):
    """``wd`` itself for one native run; ``seed<k>``, ``seed<k>-<set>`` or
    ``<set>`` under it otherwise."""
    parts = ([] if seed is None else [f'seed{seed}']) + (
        [] if kernel_set == 'native' else [kernel_set])
    return osp.join(wd, '-'.join(parts)) if parts else wd


def run_task(name, work_root, smoke, extra_options, seed=None,
             kernel_set='native', threads=None, log=None, nproc=1):
    spec = TASKS[name]
    opts = (spec['smoke'] if smoke else []) + extra_options.get(name, [])
    return train_and_test(spec['config'], spec['metrics'],
                          osp.join(work_root, name), opts, seed, kernel_set,
                          threads, log, nproc)


def train_command(config, wd, opts, nproc=1):
    """tools/train.py's command line for ``config`` (cfg-options ``opts``):
    itself, or for ``nproc`` > 1 under torchrun with ``nproc`` processes on
    this machine (``--launcher pytorch``: distributed data parallel, gloo
    on a CPU), each taking 1/``nproc`` of the training batch, so that the
    recipe (batch, steps, learning rate) stays the config's. A batch that
    does not split evenly is refused by name."""
    cmd = ['tools/train.py', config, '--work-dir', wd]
    if nproc == 1:
        return cmd + (['--cfg-options'] + opts if opts else [])
    from mmengine.config import Config
    key = 'train_dataloader.batch_size='
    given = [o[len(key):] for o in opts if o.startswith(key)]
    batch = int(given[-1]) if given else Config.fromfile(
        osp.join(ROOT, config)).train_dataloader.batch_size
    if batch % nproc:
        sys.exit(f'error: --nproc {nproc}: the training batch of {config} '
                 f'({batch}) does not split into {nproc} equal parts')
    return (['-m', 'torch.distributed.run', '--standalone',
             f'--nproc-per-node={nproc}'] + cmd +
            ['--launcher', 'pytorch', '--cfg-options'] + opts +
            [f'{key}{batch // nproc}'])


def train_iteration_seconds(checkpoint):
    """Seconds the run of ``checkpoint`` spent in training iterations (data
    loading, forward, backward, optimizer step and the iteration hooks; not
    start-up, validation or checkpoint saves): the sum of mmengine's
    per-iteration ``train/time`` (IterTimerHook), which the checkpoint's
    message hub holds. None if it holds none."""
    from spikeformer_mm.checkpoint import load_checkpoint_file
    hub = load_checkpoint_file(checkpoint).get('message_hub') or {}
    buf = hub.get('log_scalars', {}).get('train/time')
    return None if buf is None else round(float(sum(buf.data[0])), 1)


def train_and_test(config, metrics, wd, opts, seed=None,
                   kernel_set='native', threads=None, log=None, nproc=1):
    """Train ``config`` with tools/train.py (cfg-options ``opts``, and
    ``randomness.seed`` if ``seed`` is given) under ``kernel_set``, in
    ``run_dir(wd, seed, kernel_set)``, test its last checkpoint with
    tools/test.py; the entry: config, checkpoint, each of ``metrics``
    ({key: metric name}), total seconds, the wall seconds of tools/train.py
    (``train_seconds``), the cfg-options it ran with (``options``: the
    classifier a dense task starts from, the seed), the seed, the kernel
    set and the CPU capability torch chose under it; ``threads`` and
    ``log`` as :func:`run`'s (``threads`` per process), ``nproc`` as
    :func:`train_command`'s (the test runs in one process)."""
    wd = run_dir(wd, seed, kernel_set)
    if seed is not None:
        opts = opts + [f'randomness.seed={seed}']
    t0 = time.time()
    run(train_command(config, wd, opts, nproc), kernel_set, threads, log)
    train_seconds = time.time() - t0
    ckpt = osp.join(wd, 'last_checkpoint')
    with open(ckpt) as f:
        ckpt = f.read().strip()
    metrics_file = osp.join(wd, 'test_metrics.json')
    run(['tools/test.py', config, ckpt, '--work-dir', wd,
         '--metrics-out', metrics_file] +
        (['--cfg-options'] + opts if opts else []), kernel_set, threads, log)
    with open(metrics_file) as f:
        got = json.load(f)
    entry = dict(config=config, checkpoint=ckpt, options=opts)
    for key, metric in metrics.items():
        entry[key] = round(float(got[metric]), 4)
    entry['seconds'] = round(time.time() - t0, 1)
    entry['train_seconds'] = round(train_seconds, 1)
    if seed is not None:
        entry['seed'] = seed
    entry['kernel_set'] = kernel_set
    entry['cpu_capability'] = cpu_capability(kernel_set)
    return entry


def start_checkpoint(summary, task, seed, kernel_set='native'):
    """The checkpoint in ``summary`` of ``task``'s run of ``seed`` and
    ``kernel_set`` (a run without a kernel set was native), or None."""
    entry = summary.get(task, {})
    if 'runs' not in entry:
        return entry.get('checkpoint') if seed is None and (
            entry.get('kernel_set', 'native') == kernel_set) else None
    for r in entry['runs']:
        if r.get('seed') == seed and \
                r.get('kernel_set', 'native') == kernel_set:
            return r.get('checkpoint')
    return None


def cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_all(task, planned, work_root, smoke, jobs, shared, nproc=1):
    """The entries of ``task``'s ``planned`` runs ((seed, kernel set,
    cfg-options, label) each), in that order: one at a time with torch's
    default threads (``jobs`` and ``nproc`` 1), or ``jobs`` at a time, each
    trained by ``nproc`` processes (:func:`train_command`), every process
    with ``cores() // (jobs * nproc)`` threads (at least 1;
    OMP_NUM_THREADS, if set, wins); runs side by side write their output
    to ``<run folder>.log``: the runs of one task are independent (each
    starts from a finished task's checkpoint)."""
    def one(seed, kset, extra, label, threads=None, log=None):
        say(f'\n===== {label} =====' + (f' (output: {log})' if log else ''))
        entry = dict(run_task(task, work_root, smoke, extra, seed, kset,
                              threads, log, nproc), **shared)
        if log:
            say(f'----- {label}: done in {entry["seconds"]:.0f} s')
        return entry
    jobs = min(jobs, len(planned))
    # what the entries say of their threads (per process): OMP_NUM_THREADS
    # where the caller set it, else the count given to each process
    # ('default': torch's own choice, one run of one process at a time)
    given = os.environ.get('OMP_NUM_THREADS')
    said = int(given) if given and given.isdigit() else given
    how = dict(parallel_runs=jobs, nproc=nproc)
    if jobs == 1 and nproc == 1:
        return [dict(one(*p), threads=said or 'default', **how)
                for p in planned]
    threads = None if given else max(1, cores() // (jobs * nproc))
    if jobs == 1:
        return [dict(one(*p, threads), threads=threads or said, **how)
                for p in planned]
    os.makedirs(osp.join(work_root, task), exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(
            one, *p, threads, run_dir(osp.join(work_root, task), p[0],
                                      p[1]) + '.log') for p in planned]
        entries = [f.result() for f in futures]
    return [dict(e, threads=threads or said, **how) for e in entries]


def task_entry(name, runs):
    """A task's summary entry: the run itself if there is one run, else
    the runs, their spread and each kernel set's spread."""
    if len(runs) == 1 and 'seed' not in runs[0]:
        return runs[0]
    keys = TASKS[name]['metrics']
    sets = sorted({r['kernel_set'] for r in runs})
    return dict(config=TASKS[name]['config'], runs=runs,
                spread=spread(runs, keys),
                spread_by_kernel_set={
                    k: spread([r for r in runs if r['kernel_set'] == k],
                              keys) for k in sets})


def pool(paths, tasks, record, argv):
    """``--pool``: the pooled summary of ``tasks`` over the run records
    ``paths``, written to ``record`` and printed per CPU."""
    if not record:
        sys.exit('error: --pool needs --record FILE (the pooled record)')
    try:
        summary = pool_records(paths, {t: list(TASKS[t]['metrics'])
                                       for t in tasks})
    except ValueError as e:
        sys.exit(f'error: --pool: {e}')
    runs = [r for t in tasks for r in summary[t]['runs']]
    write_record(record, 'tools/run_demos.py', argv, dict(
        # each run keeps its own CPU, capability, torch, date and commit
        cpu=sorted({r['cpu'] for r in runs}),
        cpu_capability=sorted({r['cpu_capability'] for r in runs}),
        torch=sorted({r['torch'] for r in runs}),
        pooled_from=list(paths), summary=summary))
    print('\n| task | metric | CPU | mean ± std (min-max) | runs |')
    print('|---|---|---|---|---|')
    for t in tasks:
        k = list(TASKS[t]['metrics'])[0]
        rows = list(summary[t]['spread_by_cpu'].items()) + [
            ('all', summary[t]['spread'])]
        for cpu, sp in rows:
            m = sp[k]
            print(f'| {t} | {k} | {cpu} | {m["mean"]:.4g} ± {m["std"]:.2g} '
                  f'({m["min"]:.4g}-{m["max"]:.4g}) | {m["n"]} |')
    print(f'\npooled run record: {record}')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--tasks', default=','.join(DEFAULT_TASKS),
                   help=f'comma-separated, of {list(TASKS)} (default: '
                   f'{",".join(DEFAULT_TASKS)})')
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--cls-checkpoint',
                   help='initialise the tasks that start from the classifier '
                   '(detection, segmentation, the event classifier) from '
                   'this checkpoint (default: the classification task\'s '
                   'run of the same seed and kernel set); the event '
                   'detector always starts from the event task\'s')
    p.add_argument('--seeds', type=int,
                   help='train each task with seeds 0..N-1 and report the '
                   'spread (mean, std, min, max)')
    p.add_argument('--kernel-sets', default='native',
                   help='comma-separated, of '
                   f'{list(KERNEL_SETS)}: run each seed under each '
                   '(default: native)')
    p.add_argument('--record',
                   help='write the run record (every run with its CPU, '
                   'kernel set, torch, commit; each task\'s spread; the '
                   'digest of each dataset under data/) to this new JSON '
                   'file')
    p.add_argument('--smoke', action='store_true',
                   help='a minimal run of each task (for tests)')
    p.add_argument('--jobs', type=int, default=1,
                   help='runs of a task (seeds x kernel sets) trained side '
                   'by side, each with cores / N threads and its output in '
                   '<run folder>.log (default: 1, one at a time with every '
                   'core); a run\'s seconds then count the machine shared')
    p.add_argument('--nproc', type=int, default=1,
                   help='train each run as N processes (torchrun on this '
                   'machine, distributed data parallel; gloo on a CPU), '
                   'each with 1/N of the config\'s training batch and '
                   'cores / (jobs x N) threads (default: 1)')
    p.add_argument('--pool', nargs='+', metavar='RECORD',
                   help='train nothing: write to --record one summary of '
                   '--tasks over the runs of these run records (e.g. one '
                   'per kind of CPU), with each CPU\'s spread beside the '
                   'pooled one')
    args = p.parse_args(argv)
    from spikeformer_mm.cli import refuse_overwriting_inputs
    refuse_overwriting_inputs(args, ['cls_checkpoint'],
                              ['work_dir', 'record'])
    if args.jobs < 1:
        sys.exit(f'error: --jobs must be >= 1, got {args.jobs}')
    if args.nproc < 1:
        sys.exit(f'error: --nproc must be >= 1, got {args.nproc}')
    if args.seeds is not None and args.seeds < 1:
        sys.exit(f'error: --seeds must be >= 1, got {args.seeds}')
    seeds = [None] if args.seeds is None else list(range(args.seeds))
    tasks = [t for t in args.tasks.split(',') if t]
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        sys.exit(f'error: --tasks: unknown {bad}; choose from {list(TASKS)}')
    kernel_sets = [k for k in args.kernel_sets.split(',') if k]
    bad = [k for k in kernel_sets if k not in KERNEL_SETS]
    if bad or not kernel_sets:
        sys.exit(f'error: --kernel-sets: unknown {bad}; choose from '
                 f'{list(KERNEL_SETS)}')
    refuse_existing_record(args.record)
    if args.pool:
        given = [o for o, v in (('--seeds', args.seeds is not None),
                                ('--smoke', args.smoke),
                                ('--jobs', args.jobs != 1),
                                ('--nproc', args.nproc != 1),
                                ('--cls-checkpoint', args.cls_checkpoint),
                                ('--kernel-sets', kernel_sets != ['native']))
                 if v]
        if given:
            sys.exit(f'error: --pool trains nothing: {", ".join(given)} '
                     'do not apply to it')
        return pool(args.pool, tasks, args.record,
                    sys.argv[1:] if argv is None else argv)
    shared = provenance()
    work_root = osp.abspath(osp.join(ROOT, args.work_dir)) \
        if not osp.isabs(args.work_dir) else args.work_dir
    summary_path = osp.join(work_root, 'summary.json')
    summary = read_json(summary_path, {})
    for t in tasks:
        planned = []  # (seed, kernel set, cfg-options, label), in order
        for seed in seeds:
            for kset in kernel_sets:
                extra = {}
                start = TASKS[t].get('starts_from')
                if start:
                    given = args.cls_checkpoint \
                        if start == 'classification' else None
                    ckpt = given or start_checkpoint(summary, start, seed,
                                                     kset)
                    if ckpt is None:
                        sys.exit(f'error: {t} starts from the {start} task: '
                                 f'run it first (--tasks {start},{t}, with '
                                 'the same --seeds and --kernel-sets)' +
                                 (' or give --cls-checkpoint' if start ==
                                  'classification' else ''))
                    if not osp.isfile(ckpt):
                        sys.exit(f'error: checkpoint of {start} not found: '
                                 f'{ckpt}')
                    extra[t] = ['model.backbone.init_cfg.checkpoint=' + ckpt]
                label = ', '.join([t] + ([] if seed is None else
                                         [f'seed {seed}']) +
                                  ([] if kset == 'native' else
                                   [f'kernel set {kset}']))
                planned.append((seed, kset, extra, label))
        runs = run_all(t, planned, work_root, args.smoke, args.jobs, shared,
                       args.nproc)
        summary[t] = task_entry(t, runs)
        write_json(summary_path, summary)
    if args.record:
        write_record(args.record, 'tools/run_demos.py',
                     sys.argv[1:] if argv is None else argv,
                     dict(cpu_capability=cpu_capability(),
                          data=data_digests(),
                          summary={t: summary[t] for t in tasks}), shared)
    print('\n| task | metric | value | time (s) | checkpoint |')
    print('|---|---|---|---|---|')
    for t in tasks:
        e = summary[t]
        for k in list(TASKS[t]['metrics'])[:2]:
            if 'spread' in e:
                m, sec = e['spread'][k], e['spread']['seconds']
                where = osp.relpath(osp.join(work_root, t), ROOT)
                print(f'| {t} | {k} | {m["mean"]:.4g} ± {m["std"]:.2g} (min '
                      f'{m["min"]:.4g}, max {m["max"]:.4g}, {m["n"]} runs: '
                      f'{len(seeds)} seeds x {len(kernel_sets)} kernel '
                      f'sets) | {sec["mean"]:.0f} | {where}/seed*/ |')
            else:
                print(f'| {t} | {k} | {e[k]} | {e["seconds"]} | '
                      f'{osp.relpath(e["checkpoint"], ROOT)} |')
    print(f'\nsummary: {summary_path}')
    if args.record:
        print(f'run record: {args.record}')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
