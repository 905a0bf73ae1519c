"""Prove an integer-spike model (I-LIF; E-SpikeFormer's MultiSpike) equal
to its binary (spike-driven) form on a config's val images.

    python tools/analysis_tools/binary_equivalence.py CONFIG [CHECKPOINT] \
        [--T T] [--num-images N] [--deploy dense|factorised|none] \
        [--out result.json] [--cfg-options k=v ...]

Both models run in float64: the integer model as trained (each I-LIF
neuron emits counts 0..D), and the same model with every count expanded
into D binary slots before each synaptic layer, the slots summed after it
and the bias added once (spikeformer_mm.deploy.expand_to_binary). Prints
the largest absolute difference of every expanded layer, backbone tap and
model output, writes {"max_abs_diff": ..., "layers": [...], ...} to --out,
and exits 1 when the difference is above 1e-9. Without a checkpoint the
weights are random.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def main(argv=None):
    from spikeformer_mm.cli import CfgOptions
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?',
                   help='weights (a file, zoo:// name or URL); random '
                   'weights without one')
    p.add_argument('--T', type=int, help='time steps (default: the config\'s)')
    p.add_argument('--num-images', type=int, default=4)
    p.add_argument('--deploy', choices=['dense', 'factorised', 'none'],
                   default='dense',
                   help='re-parameterise first (BNs folded, RepConv in this '
                   'form; default dense, the paper\'s), or none')
    p.add_argument('--out', help='write the result JSON here')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptions)
    p.add_argument('--non-strict', action='store_true',
                   help='load a checkpoint whose keys do not all match')
    args = p.parse_args(argv)
    if args.num_images < 1:
        sys.exit(f'error: --num-images must be >= 1, got {args.num_images}')
    from spikeformer_mm.cli import refuse_overwriting_inputs, require_files
    refuse_overwriting_inputs(args, ('config', 'checkpoint'), ('out', ))
    require_files(config=args.config)
    from spikeformer_mm.apis.binary import (binary_equivalence,
                                            format_equivalence)
    from spikeformer_mm.fileio import write_json
    rep = binary_equivalence(
        args.config, args.checkpoint, T=args.T, num_images=args.num_images,
        deploy=False if args.deploy == 'none' else args.deploy,
        cfg_options=args.cfg_options, strict=not args.non_strict)
    print(format_equivalence(rep))
    if args.out:
        write_json(args.out, rep)
        print(f'result: {args.out}')
    if not rep['equal']:
        print(f'error: the binary form differs from the integer model by '
              f'{rep["max_abs_diff"]:.3e} > {rep["tolerance"]:g}',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    sys.exit(run_cli(main))
