"""The main job: train and evaluate Meta-SpikeFormer on the embedded digits.

    python tools/run_demos.py [--tasks classification] [--work-dir work_dirs/demo]
                              [--seeds N] [--smoke]

For each task it builds the data if absent (scikit-learn's bundled digits,
no download), trains with tools/train.py, evaluates the final checkpoint
with tools/test.py, prints a results table with each task's time and adds
its entry to ``<work-dir>/summary.json``.

With ``--seeds N`` each task is trained N times, with training seeds 0..N-1
(``randomness.seed``; the data stay the same), in ``<work-dir>/<task>/seed<k>``;
a dense task of seed k starts from the classifier of seed k. The summary
entry then holds every run (``runs``) and each metric's mean, std
(sample, n-1), min and max (``spread``), and the table prints mean ± std.
"""
import statistics
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from spikeformer_mm.fileio import read_json, write_json  # noqa: E402

def subset(n_train, n_val):
    """cfg-options that keep the first samples of each split (smoke runs)."""
    return [f'train_dataloader.dataset.indices={n_train}',
            f'val_dataloader.dataset.indices={n_val}',
            f'test_dataloader.dataset.indices={n_val}']


# task -> config, metrics to report {summary key: metric}, cfg-options that
# shrink the run for --smoke, and whether its backbone starts from the
# classifier's weights.
DETECTION = dict(  # both detectors
    metrics={'bbox_mAP_50': 'coco/bbox_mAP_50',
             'segm_mAP_50': 'coco/segm_mAP_50',
             'bbox_mAP': 'coco/bbox_mAP', 'segm_mAP': 'coco/segm_mAP'},
    smoke=['train_cfg.max_epochs=1', 'train_cfg.val_interval=1'] +
    subset(8, 4),
    from_classifier=True)
# bounded, but long enough to learn (100 iterations, ~30 s; a faster weight
# average, else it still holds the first weights): 42.7 / 41.7 / 40.6% top-1
# for seeds 0-2 of the binary classifier, chance is 10%
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
        smoke=['train_cfg.max_iters=4', 'train_cfg.val_interval=4',
               'default_hooks.checkpoint.interval=4'] + subset(8, 4),
        from_classifier=True,
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
        smoke=['train_cfg.max_epochs=1', 'train_cfg.val_interval=1'] +
        subset(64, 32),
        from_classifier=True,
        on_request=True,
    ),
    # event-camera detection: Faster R-CNN on moving digits recorded in
    # Prophesee's Gen1 format (run on request: --tasks event-detection)
    'event-detection': dict(
        config='projects/event_digits/configs/'
               'faster-rcnn_metaspikeformer-demo_fpn_moving-digits-t2.py',
        metrics={'bbox_mAP_50': 'coco/bbox_mAP_50',
                 'bbox_mAP': 'coco/bbox_mAP'},
        # a few recordings, built in a folder of their own
        smoke=['train_cfg.max_epochs=1', 'train_cfg.val_interval=1'] + [
            f'{s}_dataloader.dataset.{k}' for s in ('train', 'val', 'test')
            for k in ('data_root=data/moving_digits_smoke',
                      'build.num_train=4', 'build.num_val=2')],
        from_classifier=True,
        on_request=True,
    ),
}
DEFAULT_TASKS = [t for t, spec in TASKS.items() if not spec.get('on_request')]


def run(cmd):
    print('$', ' '.join(cmd), flush=True)
    r = subprocess.run([sys.executable] + cmd, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f'error: {" ".join(cmd)} failed with exit code '
                 f'{r.returncode}')


def run_task(name, work_root, smoke, extra_options, seed=None):
    spec = TASKS[name]
    opts = (spec['smoke'] if smoke else []) + extra_options.get(name, [])
    return train_and_test(spec['config'], spec['metrics'],
                          osp.join(work_root, name), opts, seed)


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


def train_and_test(config, metrics, wd, opts, seed=None):
    """Train ``config`` with tools/train.py (cfg-options ``opts``, and
    ``randomness.seed`` if ``seed`` is given, in ``wd/seed<k>``), test its
    last checkpoint with tools/test.py; the entry: config, checkpoint, each
    of ``metrics`` ({key: metric name}), total seconds and the wall seconds
    of tools/train.py (``train_seconds``)."""
    if seed is not None:
        wd = osp.join(wd, f'seed{seed}')
        opts = opts + [f'randomness.seed={seed}']
    t0 = time.time()
    run(['tools/train.py', config, '--work-dir', wd] +
        (['--cfg-options'] + opts if opts else []))
    train_seconds = time.time() - t0
    ckpt = osp.join(wd, 'last_checkpoint')
    with open(ckpt) as f:
        ckpt = f.read().strip()
    metrics_file = osp.join(wd, 'test_metrics.json')
    run(['tools/test.py', config, ckpt, '--work-dir', wd,
         '--metrics-out', metrics_file] +
        (['--cfg-options'] + opts if opts else []))
    with open(metrics_file) as f:
        got = json.load(f)
    entry = dict(config=config, checkpoint=ckpt)
    for key, metric in metrics.items():
        entry[key] = round(float(got[metric]), 4)
    entry['seconds'] = round(time.time() - t0, 1)
    entry['train_seconds'] = round(train_seconds, 1)
    if seed is not None:
        entry['seed'] = seed
    return entry


def spread(runs, keys):
    """Mean, sample std, min and max of each metric over ``runs``."""
    out = {}
    for k in list(keys) + ['seconds']:
        v = [r[k] for r in runs]
        out[k] = dict(mean=round(statistics.mean(v), 4),
                      std=round(statistics.stdev(v), 4) if len(v) > 1
                      else 0.0, min=min(v), max=max(v), n=len(v))
    return out


def classifier_checkpoint(summary, seed):
    """The classification task's checkpoint in ``summary`` (of ``seed`` in
    a --seeds run), or None."""
    entry = summary.get('classification', {})
    if seed is not None:
        runs = {r.get('seed'): r for r in entry.get('runs', [])}
        return runs.get(seed, {}).get('checkpoint')
    return entry.get('checkpoint')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--tasks', default=','.join(DEFAULT_TASKS),
                   help=f'comma-separated, of {list(TASKS)} (default: '
                   f'{",".join(DEFAULT_TASKS)})')
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--cls-checkpoint',
                   help='initialise detection/segmentation from this '
                   'classifier (default: the classification task\'s)')
    p.add_argument('--seeds', type=int,
                   help='train each task with seeds 0..N-1 and report the '
                   'spread (mean, std, min, max)')
    p.add_argument('--smoke', action='store_true',
                   help='a minimal run of each task (for tests)')
    args = p.parse_args(argv)
    from spikeformer_mm.cli import refuse_overwriting_inputs
    refuse_overwriting_inputs(args, ['cls_checkpoint'], ['work_dir'])
    if args.seeds is not None and args.seeds < 1:
        sys.exit(f'error: --seeds must be >= 1, got {args.seeds}')
    seeds = [None] if args.seeds is None else list(range(args.seeds))
    tasks = [t for t in args.tasks.split(',') if t]
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        sys.exit(f'error: --tasks: unknown {bad}; choose from {list(TASKS)}')
    work_root = osp.abspath(osp.join(ROOT, args.work_dir)) \
        if not osp.isabs(args.work_dir) else args.work_dir
    summary_path = osp.join(work_root, 'summary.json')
    summary = read_json(summary_path, {})
    for t in tasks:
        runs = []
        for seed in seeds:
            extra = {}
            if TASKS[t].get('from_classifier'):
                ckpt = args.cls_checkpoint or classifier_checkpoint(
                    summary, seed)
                if ckpt is None:
                    sys.exit(f'error: {t} starts from the classifier: run '
                             'the classification task first (--tasks '
                             f'classification,{t}, with the same --seeds) '
                             'or give --cls-checkpoint')
                if not osp.isfile(ckpt):
                    sys.exit(f'error: classifier checkpoint not found: '
                             f'{ckpt}')
                extra[t] = ['model.backbone.init_cfg.checkpoint=' + ckpt]
            label = t if seed is None else f'{t}, seed {seed}'
            print(f'\n===== {label} =====', flush=True)
            runs.append(run_task(t, work_root, args.smoke, extra, seed))
        if seed is None:
            summary[t] = runs[0]
        else:
            summary[t] = dict(config=TASKS[t]['config'], runs=runs,
                              spread=spread(runs, TASKS[t]['metrics']))
        write_json(summary_path, summary)
    print('\n| task | metric | value | time (s) | checkpoint |')
    print('|---|---|---|---|---|')
    for t in tasks:
        e = summary[t]
        for k in list(TASKS[t]['metrics'])[:2]:
            if 'spread' in e:
                m, sec = e['spread'][k], e['spread']['seconds']
                where = osp.relpath(osp.join(work_root, t), ROOT)
                print(f'| {t} | {k} | {m["mean"]:.4g} ± {m["std"]:.2g} (min '
                      f'{m["min"]:.4g}, max {m["max"]:.4g}, {m["n"]} seeds) | '
                      f'{sec["mean"]:.0f} | {where}/seed*/ |')
            else:
                print(f'| {t} | {k} | {e[k]} | {e["seconds"]} | '
                      f'{osp.relpath(e["checkpoint"], ROOT)} |')
    print(f'\nsummary: {summary_path}')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
