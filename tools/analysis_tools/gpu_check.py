"""The GPU check of docs/gpu_check.md: our training and inference beside
the paper's code on the same GPU, one JSON and one Markdown table.

    python tools/analysis_tools/gpu_check.py [--paper-repo DIR --paper-path DIR]
        [--out-dir work_dirs/gpu_check] [--budget-s 420] [--dry-run]

``--dry-run`` runs the same plan on the CPU with a tiny model (the test
suite runs it); ``tools/analysis_tools/gpu_check.sh`` installs the brought
wheels on a bare GPU machine and runs the CUDA tests, then this.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from spikeformer_mm.cli import run_cli  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--paper-repo', help='a checkout of BICLab/Spike-Driven-'
                   'Transformer-V2 (its rows are left out without one)')
    p.add_argument('--paper-path', help="a folder with the paper's stack "
                   '(spikingjelly 0.0.0.0.12, timm, einops, torchinfo), put '
                   'first on PYTHONPATH for its rows')
    p.add_argument('--out-dir', default='work_dirs/gpu_check')
    p.add_argument('--budget-s', type=float, default=420.,
                   help='stop starting rows after this many seconds')
    p.add_argument('--device', default=None,
                   help='default: cuda, or cpu with --dry-run')
    p.add_argument('--dry-run', action='store_true',
                   help='the same plan on the CPU, tiny: checks the path')
    args = p.parse_args(argv)
    if args.paper_repo and not osp.isfile(osp.join(
            args.paper_repo, 'classification', 'models.py')):
        p.error(f'--paper-repo {args.paper_repo}: no classification/'
                f'models.py (a checkout of Spike-Driven-Transformer-V2?)')
    import time

    from spikeformer_mm.analysis.gpu_check import markdown, run_check
    from spikeformer_mm.cli import refuse_overwriting_inputs
    from spikeformer_mm.fileio import atomic_path, write_json
    # each run in its own time-stamped folder: no earlier report is replaced
    out_dir = osp.join(args.out_dir, time.strftime('%Y%m%d_%H%M%S'))
    report_json = osp.join(out_dir, 'gpu_check.json')
    report_md = osp.join(out_dir, 'gpu_check.md')
    refuse_overwriting_inputs(args, ('paper_repo', 'paper_path'), (),
                              planned={'out_dir': [report_json, report_md]})
    device = args.device or ('cpu' if args.dry_run else 'cuda')
    report = run_check(device, args.dry_run, args.paper_repo,
                       args.paper_path, args.budget_s)
    table = markdown(report)
    write_json(report_json, report)
    with atomic_path(report_md, suffix='.md') as tmp:
        with open(tmp, 'w') as f:
            f.write(table)
    print(table)
    print(f'report: {report_json} and {report_md}')


if __name__ == '__main__':
    run_cli(main)
