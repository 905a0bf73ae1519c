"""Run the benchmark table of docs/speed.md: plain vs fast paths and (CPU
inference) the onnxruntime / OpenVINO engines, one process per row.

    python tools/analysis_tools/benchmark_suite.py [--device cpu] [--arch 15M]
        [--out-dir work_dirs/benchmark] [--quick] [--record FILE]

Writes one JSON per run and ``table.md`` (ratios are to the plain row of
the same T and mode, measured in the same invocation; peak RSS is the
row's whole process; the CPU column is torch's CPU capability). On a CPU
without native bf16 the bf16 rows are left out, and the table says so.
``--record FILE`` also writes the run record that docs/speed.md's table
comes from (every row's result, the table, the command, CPU, torch, date
and commit; never over an existing file).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(osp.dirname(HERE)))


def engines_available():
    """The installed engines (found, not imported: each row's process
    imports what it runs)."""
    import importlib.util

    from spikeformer_mm.deploy.targets import TARGETS
    return [name for name, t in TARGETS.items()
            if importlib.util.find_spec(t.package) is not None]


def runs(device, arch, quick, bf16, engines=()):
    """The rows: for each T and mode, plain fp32, fast fp32, fast with_cp
    (training), and fast bf16 where the device runs bf16 natively; for CPU
    inference also the exported model in onnxruntime (fp32, int8) and
    OpenVINO (fp32, int8, and bf16 where the CPU has it)."""
    from spikeformer_mm.deploy.targets import TARGETS
    b_inf, b_tr = (32, 16) if device.startswith('cuda') else (4, 4)
    out = []
    for T in (1, 4):
        tb = b_tr if T == 1 or device.startswith('cuda') else 2
        for mode, batch in (('infer', b_inf), ('train', tb)):
            row = dict(arch=arch, T=T, batch=batch, mode=mode)
            out.append(dict(row, dtype='fp32', fast=False))
            out.append(dict(row, dtype='fp32', fast=True))
            if mode == 'train':
                out.append(dict(row, dtype='fp32', fast=True, with_cp=True))
            if bf16:
                out.append(dict(row, dtype='bf16', fast=True))
            if mode == 'infer' and device == 'cpu':
                for engine in engines:
                    out.append(dict(row, dtype='fp32', fast=True,
                                    engine=engine))
                    if bf16 and 'bf16' in TARGETS[engine].dtypes:
                        out.append(dict(row, dtype='bf16', fast=True,
                                        engine=engine))
                    # int8: speed here; top-1 agreement on the demo set
                    # from export_onnx.py --int8 (docs/deployment.md)
                    out.append(dict(row, dtype='int8', fast=True,
                                    engine=engine))
    if quick:
        out = [r for r in out if r['T'] == 1]
    return out


def path(res):
    if res.get('engine', 'torch') != 'torch':
        return res['engine']
    if not res['fast']:
        return 'plain'
    return 'fast + with_cp' if res.get('with_cp') else 'fast'


def _num(x, fmt):
    return '-' if x is None or x != x else format(x, fmt)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--arch', default='15M')
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out-dir', default='work_dirs/benchmark')
    p.add_argument('--quick', action='store_true', help='T=1 only')
    p.add_argument('--record', help='also write the run record (rows, '
                   'table, CPU, torch, commit) to this new JSON file')
    args = p.parse_args(argv)
    from spikeformer_mm.analysis.run_record import (refuse_existing_record,
                                                    write_record)
    refuse_existing_record(args.record)
    os.makedirs(args.out_dir, exist_ok=True)
    results = []
    bf16 = args.device.startswith('cuda')
    if not bf16:
        from spikeformer_mm.compat import cpu_bf16_supported
        bf16 = cpu_bf16_supported()
        if not bf16:
            print('this CPU has no native bf16: bf16 rows left out',
                  flush=True)
    engines = engines_available() if args.device == 'cpu' else []
    for i, r in enumerate(runs(args.device, args.arch, args.quick, bf16,
                               engines)):
        out = osp.join(args.out_dir, f'run{i:02d}.json')
        cmd = [sys.executable, osp.join(HERE, 'benchmark.py'),
               '--arch', r['arch'], '--T', str(r['T']), '--batch',
               str(r['batch']), '--img-size', str(args.img_size), '--mode',
               r['mode'], '--dtype', r['dtype'], '--device', args.device,
               '--repeats', str(args.repeats), '--out', out] + \
            (['--fast'] if r['fast'] else []) + \
            (['--with-cp'] if r.get('with_cp') else []) + \
            (['--engine', r['engine']] if r.get('engine') else [])
        print('$', ' '.join(cmd[1:]), flush=True)
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
        if rc != 0:
            print(f'  failed ({rc})', flush=True)
            continue
        with open(out) as f:
            res = json.load(f)
        results.append(res)
        print(f'  {res["img_per_s"]:.2f} img/s, peak RSS '
              f'{res["peak_rss_mb"]:.0f} MB', flush=True)
    cap = results[0]['cpu_capability'] if results else '?'
    rows = ['| T | mode | batch | path | dtype | img/s | x plain | '
            'peak tensor MB | x plain | peak RSS MB | x plain | CPU |',
            '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for res in results:
        base = next((b for b in results if b['T'] == res['T'] and
                     b['mode'] == res['mode'] and not b['fast']), None)
        sp = res['img_per_s'] / base['img_per_s'] if base else None
        mem = res['peak_mem_mb'] / base['peak_mem_mb'] if base and \
            base['peak_mem_mb'] and res['peak_mem_mb'] is not None else None
        rss = res['peak_rss_mb'] / base['peak_rss_mb'] if base else None
        rows.append(f'| {res["T"]} | {res["mode"]} | {res["batch"]} | '
                    f'{path(res)} | {res["dtype"]} | '
                    f'{res["img_per_s"]:.2f} | {_num(sp, ".2f")} | '
                    f'{_num(res["peak_mem_mb"], ".0f")} | '
                    f'{_num(mem, ".2f")} | {res["peak_rss_mb"]:.0f} | '
                    f'{_num(rss, ".2f")} | {res["cpu_capability"]} |')
    if args.device == 'cpu' and not bf16:
        rows.append('')
        rows.append(f'This CPU ({cap}) has no native bf16: the bf16 rows '
                    'are left for a machine that has it.')
    table = '\n'.join(rows)
    from spikeformer_mm.fileio import atomic_path, write_json
    with atomic_path(osp.join(args.out_dir, 'table.md'), suffix='.md') as t:
        with open(t, 'w') as f:
            f.write(table + '\n')
    write_json(osp.join(args.out_dir, 'results.json'), results)
    print(table)
    if args.record:
        write_record(args.record, 'tools/analysis_tools/benchmark_suite.py',
                     sys.argv[1:] if argv is None else argv,
                     dict(rows=results, table=table))
        print(f'run record: {args.record}')


if __name__ == '__main__':
    main()
