"""Energy, firing rates, parameters and FLOPs of any spikeformer_mm config.

    python tools/analysis_tools/energy.py CONFIG [CHECKPOINT] [--num-images N]
        [--random] [--img-size H W] [--out FILE.json] [--plot FILE.png]
        [--no-deploy] [--cfg-options k=v ...]

Works for classification, detection and segmentation configs. Images come
from the config's test set (the embedded demo sets work out of the box) or,
with --random, are random images run through the config's test pipeline.
Energy per image uses the 45 nm model (4.6 pJ per MAC, 0.9 pJ per AC); see
spikeformer_mm/analysis/energy_meter/ for what is counted and how.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from spikeformer_mm.cli import CfgOptions, refuse_overwriting_inputs  # noqa: E402
from spikeformer_mm.apis.energy import measure_energy  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None,
                   help='weights (without: the config\'s initialisation)')
    p.add_argument('--num-images', type=int, default=8)
    p.add_argument('--random', action='store_true',
                   help='random images through the test pipeline instead '
                   'of the test set')
    p.add_argument('--img-size', type=int, nargs=2, default=(224, 224),
                   metavar=('H', 'W'), help='size of the random images')
    p.add_argument('--out', help='write the JSON report here')
    p.add_argument('--plot', help='write a PNG of the firing rates here '
                   '(default: next to --out)')
    p.add_argument('--no-deploy', action='store_true',
                   help='count the training graph (RepConv and BN unfused)')
    p.add_argument('--rows', type=int, default=30,
                   help='layers shown in the table (most energy first); '
                   '0 for all')
    p.add_argument('--convention', choices=['measured', 'paper'],
                   default='measured',
                   help='the convention of the table and plot (the JSON has '
                   'both; docs/energy.md): measured (each layer as it runs) '
                   'or paper (the Meta-SpikeFormer family\'s formula)')
    p.add_argument('--flops-basis', choices=['deployed', 'trained'],
                   default='deployed',
                   help='FLOPs of the paper convention: each RepConv as its '
                   'deployed 3x3 conv or as its trained 1x1/3x3dw/1x1 convs')
    p.add_argument('--memory', action='store_true',
                   help='also estimate the memory-access energy '
                   '(spikingjelly\'s simple energy model), printed beside '
                   'the compute energy, never added to it')
    p.add_argument('--assume-rate', type=float, nargs='+', metavar='R',
                   help='also give the energy if every layer past the '
                   'encoder read inputs of mean rate R (for weights that '
                   'are not a trained model\'s)')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptions)
    p.add_argument('--non-strict', action='store_true',
                   help='load a checkpoint whose keys do not all match')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    refuse_overwriting_inputs(args, ('config', 'checkpoint'),
                              ('out', 'plot'))
    if args.num_images < 1:
        sys.exit('error: --num-images must be >= 1')
    bad = [r for r in args.assume_rate or () if not 0 <= r <= 1]
    if bad:  # before the measurement, not after it
        sys.exit(f'error: --assume-rate: a rate is in [0, 1], got {bad}')
    report, table = measure_energy(
        args.config, args.checkpoint, num_images=args.num_images,
        random_images=args.random, img_size=tuple(args.img_size),
        deploy=not args.no_deploy, cfg_options=args.cfg_options,
        rows=args.rows or None, strict=not args.non_strict,
        convention=args.convention, flops_basis=args.flops_basis,
        memory=args.memory, assume_rates=args.assume_rate)
    print(table)
    if args.out:
        from spikeformer_mm.fileio import write_json
        write_json(args.out, report)
        print(f'report: {args.out}')
    plot = args.plot or (osp.splitext(args.out)[0] + '.png' if args.out
                         else None)
    if plot:
        from spikeformer_mm.analysis.energy_meter import plot_firing_rates
        from spikeformer_mm.fileio import atomic_path
        with atomic_path(plot, suffix='.png') as tmp:
            plot_firing_rates(report, tmp)
        print(f'plot: {plot}')


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
