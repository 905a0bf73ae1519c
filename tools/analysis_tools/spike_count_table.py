"""Binary spikes against integer spikes on the digits demo, same schedule:
top-1, training time, energy per image (binary form) and firing rates.

    python tools/analysis_tools/spike_count_table.py [--variants NAMES] \
        [--seeds N] [--work-dir work_dirs/spike_counts] [--num-images 64] \
        [--smoke]

Variants (``--variants``, comma-separated; default all): binary LIF at
T=1, 2, 4 (the demo classifier's config with another T); I-LIF at T=1 with
D=2 and D=4, and at T=2 with D=2 (T x D = 4 binary slots, as binary T=4);
the (D+1)-level quantised activation without membrane at T=2, D=2 (at
T=1 it is I-LIF itself); and E-SpikeFormer (V3's base model, its blocks and
neuron, counts 0..4 / 4) at T=1 at the same widths. Each is trained with
tools/train.py and tested with tools/test.py (run_demos.py's steps), then
measured with the energy meter on --num-images val images (integer spikes
in their binary form).
Results go to ``<work-dir>/results.json`` after every run, each with its
recipe (a digest of the resolved config) and CPU; a rerun skips the runs
it holds for the same recipe and trains again those whose recipe changed.
The table goes to ``<work-dir>/table.md``; ``--record FILE`` also writes
the run record the READMEs' tables come from (the command, CPU, torch,
date, commit, each variant's runs and the table; never over an existing
file).
"""
import argparse
import os.path as osp
import statistics
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools'))

BINARY = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
ILIF = 'configs/classification/metaspikeformer-demo-ilif-d4_1xb32_digits-t1.py'
V3 = 'configs/classification/e-spikeformer-demo_1xb32_digits-t1.py'


def neuron(kind, D):
    return [f'model.backbone.neuron_cfg.type={kind}',
            f'model.backbone.neuron_cfg.max_spike_count={D}',
            f'model.head.neuron_cfg.type={kind}',
            f'model.head.neuron_cfg.max_spike_count={D}']


# name -> (label, config, cfg-options, T, D)
VARIANTS = {
    'lif-t1': ('LIF (binary), T=1', BINARY, ['model.backbone.T=1'], 1, 1),
    'lif-t2': ('LIF (binary), T=2', BINARY, [], 2, 1),
    'lif-t4': ('LIF (binary), T=4', BINARY, ['model.backbone.T=4'], 4, 1),
    'ilif-t1-d2': ('I-LIF, T=1, D=2', ILIF, neuron('ILIF', 2), 1, 2),
    'ilif-t1-d4': ('I-LIF, T=1, D=4', ILIF, [], 1, 4),
    'ilif-t2-d2': ('I-LIF, T=2, D=2', ILIF,
                   ['model.backbone.T=2'] + neuron('ILIF', 2), 2, 2),
    'quant-t2-d2': ('quantised activation, no membrane, T=2, D=2', ILIF,
                    ['model.backbone.T=2'] + neuron('QuantAct', 2), 2, 2),
    'v3-t1-d4': ('E-SpikeFormer (V3), T=1, D=4', V3, [], 1, 4),
}
SMOKE = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1']
COLUMNS = ('top1', 'train_seconds', 'train_iter_seconds', 'energy_mJ',
           'events', 'rate')


def measure(entry, opts, num_images):
    from spikeformer_mm.apis.energy import measure_energy
    rep, _ = measure_energy(entry['config'], entry['checkpoint'],
                            num_images=num_images, rows=None,
                            cfg_options=_as_dict(opts))
    return dict(energy_mJ=rep['energy_mJ'],
                events=rep['mean_events_per_neuron_step'],
                rate=rep['mean_firing_rate'])


def _as_dict(opts):
    """``k=v`` strings as the dict ``--cfg-options`` gives."""
    from spikeformer_mm.cli import CfgOptions
    p = argparse.ArgumentParser()
    p.add_argument('--o', nargs='+', action=CfgOptions, default={})
    return p.parse_args(['--o', *opts]).o if opts else {}


def recipe(config, opts):
    """A digest of ``config`` with ``opts`` applied (seed excluded): runs
    of one recipe are comparable, a changed config is trained again."""
    import hashlib

    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(_as_dict(opts))
    cfg.pop('randomness', None)
    return hashlib.sha256(cfg.pretty_text.encode()).hexdigest()[:16]


def summarise(runs):
    out = {}
    for k in COLUMNS:
        v = [r[k] for r in runs if r.get(k) is not None]
        out[k] = dict(mean=statistics.mean(v) if v else None,
                      std=statistics.stdev(v) if len(v) > 1 else 0.0, n=len(v))
    return out


def table(results):
    lines = ['| variant | T x D (binary slots) | top-1 % | training s '
             '(tools/train.py) | of which in iterations, s | '
             'energy / image (binary form) | events / neuron / step | '
             'non-zero rate |', '|---|---|---|---|---|---|---|---|']
    for name, (label, _, _, T, D) in VARIANTS.items():
        runs = results.get(name)
        if not runs:
            continue
        s = summarise(runs)

        def f(k, fmt):
            m, sd = s[k]['mean'], s[k]['std']
            if m is None:
                return 'not recorded'
            return (fmt.format(m) + (' ± ' + fmt.format(sd)
                                     if s[k]['n'] > 1 else ''))
        lines.append(
            f'| {label} | {T} x {D} = {T * D} | {f("top1", "{:.2f}")} | '
            f'{f("train_seconds", "{:.0f}")} | '
            f'{f("train_iter_seconds", "{:.0f}")} | '
            f'{f("energy_mJ", "{:.4f}")} mJ | {f("events", "{:.3f}")} | '
            f'{f("rate", "{:.3f}")} |')
    n = max((len(r) for r in results.values()), default=0)
    cpus = sorted({r.get('cpu', 'CPU not recorded')
                   for runs in results.values() for r in runs})
    lines.append('')
    lines.append(f'Mean ± std over {n} seed(s) where more than one; '
                 f'{"; ".join(cpus)}.')
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variants', default=','.join(VARIANTS))
    p.add_argument('--seeds', type=int, default=1)
    p.add_argument('--work-dir', default='work_dirs/spike_counts')
    p.add_argument('--num-images', type=int, default=64,
                   help='val images for the energy meter')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='K=V',
                   help='options for every variant (part of each recipe), '
                   'e.g. train_cfg.max_epochs=12')
    p.add_argument('--record',
                   help='also write the run record of the variants asked '
                   'for to this new JSON file')
    p.add_argument('--smoke', action='store_true',
                   help='one epoch on 64 images: checks the wiring only '
                   '(for tests)')
    args = p.parse_args(argv)
    names = [n for n in args.variants.split(',') if n]
    bad = [n for n in names if n not in VARIANTS]
    if bad:
        raise ValueError(f'--variants: unknown {bad}; choose from '
                         f'{list(VARIANTS)}')
    if args.seeds < 1 or args.num_images < 1:
        raise ValueError('--seeds and --num-images must be >= 1')
    bad = [o for o in args.cfg_options if '=' not in o]
    if bad:
        raise ValueError(f'--cfg-options: {bad} are not KEY=VALUE')
    from spikeformer_mm.analysis.run_record import (
        provenance, refuse_existing_record, write_record)
    refuse_existing_record(args.record)
    import torch
    from run_demos import subset, train_and_test, train_iteration_seconds
    from spikeformer_mm.fileio import atomic_path, read_json, write_json
    wd = osp.join(ROOT, args.work_dir) if not osp.isabs(args.work_dir) \
        else args.work_dir
    path = osp.join(wd, 'results.json')
    results = read_json(path, {})
    cpu = (f'torch {torch.__version__}, CPU capability '
           f'{torch.backends.cpu.get_cpu_capability()}, '
           f'{torch.get_num_threads()} threads')
    extra = (SMOKE + subset(64, 32) if args.smoke else []) + \
        args.cfg_options
    digests = {n: recipe(v[1], extra + v[2]) for n, v in VARIANTS.items()}
    for name in names:
        label, config, opts, T, D = VARIANTS[name]
        opts = extra + opts
        digest = digests[name]
        runs = {r['seed']: r for r in results.get(name, [])
                if r.get('recipe') == digest}
        stale = len(results.get(name, [])) - len(runs)
        if stale:
            print(f'{name}: {stale} earlier run(s) of another recipe '
                  f'(config changed): trained again', flush=True)
        for seed in range(args.seeds):
            if seed in runs:
                continue  # measured in an earlier invocation
            print(f'\n===== {label}, seed {seed} =====', flush=True)
            entry = train_and_test(config, {'top1': 'accuracy/top1'},
                                   osp.join(wd, name), opts, seed)
            entry['train_iter_seconds'] = train_iteration_seconds(
                entry['checkpoint'])
            # each run says when and from which commit it was made: a
            # record may hold runs of earlier invocations (same recipe)
            made = provenance()
            entry.update(measure(entry, opts, args.num_images), T=T, D=D,
                         options=opts, recipe=digest, cpu=cpu,
                         cpu_model=made['cpu'], date=made['date'],
                         commit=made['commit'])
            runs[seed] = entry
            results[name] = [runs[k] for k in sorted(runs)]
            write_json(path, results)
    # every variant measured with its current recipe, this run's or not
    md = table({n: [r for r in runs if r.get('recipe') == digests.get(n)]
                for n, runs in results.items()})
    with atomic_path(osp.join(wd, 'table.md')) as tmp, open(tmp, 'w') as f:
        f.write(md + '\n')
    print('\n' + md)
    print(f'\nresults: {path}')
    if args.record:
        asked = {n: [r for r in results[n] if r.get('recipe') == digests[n]]
                 for n in names}
        write_record(args.record, 'tools/analysis_tools/spike_count_table.py',
                     argv if argv is not None else sys.argv[1:],
                     dict(results=asked, table=table(asked)))
        print(f'run record: {args.record}')


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
