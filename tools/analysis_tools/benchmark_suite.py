"""Run the README's benchmark table: plain vs fast paths, one process each.

    python tools/analysis_tools/benchmark_suite.py [--device cpu] [--arch 15M]
        [--out-dir work_dirs/benchmark] [--quick]

Writes one JSON per run and ``table.md`` (speed-ups are fast / plain of the
same row, measured in the same invocation).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(osp.dirname(HERE)))


def runs(device, arch, quick, bf16):
    """The rows: for each T and mode, plain fp32, fast fp32, fast with_cp
    (training), and fast bf16 where the device runs bf16 natively."""
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
    if quick:
        out = [r for r in out if r['T'] == 1]
    return out


def path(res):
    if not res['fast']:
        return 'plain'
    return 'fast + with_cp' if res.get('with_cp') else 'fast'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--arch', default='15M')
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out-dir', default='work_dirs/benchmark')
    p.add_argument('--quick', action='store_true', help='T=1 only')
    args = p.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    results = []
    bf16 = args.device.startswith('cuda')
    if not bf16:
        from spikeformer_mm.compat import cpu_bf16_supported
        bf16 = cpu_bf16_supported()
        if not bf16:
            print('this CPU has no native bf16: bf16 rows left out',
                  flush=True)
    for i, r in enumerate(runs(args.device, args.arch, args.quick, bf16)):
        out = osp.join(args.out_dir, f'run{i:02d}.json')
        cmd = [sys.executable, osp.join(HERE, 'benchmark.py'),
               '--arch', r['arch'], '--T', str(r['T']), '--batch',
               str(r['batch']), '--img-size', str(args.img_size), '--mode',
               r['mode'], '--dtype', r['dtype'], '--device', args.device,
               '--repeats', str(args.repeats), '--out', out] + \
            (['--fast'] if r['fast'] else []) + \
            (['--with-cp'] if r.get('with_cp') else [])
        print('$', ' '.join(cmd[1:]), flush=True)
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
        if rc != 0:
            print(f'  failed ({rc})', flush=True)
            continue
        with open(out) as f:
            res = json.load(f)
        results.append(res)
        print(f'  {res["img_per_s"]:.2f} img/s, peak {res["peak_mem_mb"]:.0f}'
              ' MB', flush=True)
    rows = ['| T | mode | batch | path | dtype | img/s | x plain | peak MB | '
            'x plain |', '|---|---|---|---|---|---|---|---|---|']
    for res in results:
        base = next((b for b in results if b['T'] == res['T'] and
                     b['mode'] == res['mode'] and not b['fast']), None)
        sp = res['img_per_s'] / base['img_per_s'] if base else float('nan')
        mem = res['peak_mem_mb'] / base['peak_mem_mb'] if base and \
            base['peak_mem_mb'] else float('nan')
        rows.append(f'| {res["T"]} | {res["mode"]} | {res["batch"]} | '
                    f'{path(res)} | {res["dtype"]} | '
                    f'{res["img_per_s"]:.2f} | {sp:.2f} | '
                    f'{res["peak_mem_mb"]:.0f} | {mem:.2f} |')
    table = '\n'.join(rows)
    with open(osp.join(args.out_dir, 'table.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.out_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(table)


if __name__ == '__main__':
    main()
