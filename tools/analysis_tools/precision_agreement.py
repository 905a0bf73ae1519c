"""Compare bf16 (autocast, or with --fast the fast inference model) with
fp32 on a config's test set.

    python tools/analysis_tools/precision_agreement.py CONFIG CHECKPOINT \
        [--dtype bf16] [--fast] [--max-batches N] [--out report.json] \
        [--cfg-options k=v ...]

Prints both metric sets and the agreement of the predictions
(classification labels, segmentation pixels). On a CPU without native bf16
the bf16 pass is emulated (slow, same numerics).
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def main(argv=None):
    from spikeformer_mm.cli import CfgOptions
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--dtype', choices=['bf16', 'fp16'], default='bf16')
    p.add_argument('--fast', action='store_true',
                   help='low precision = the deployed channels_last model '
                   'with weights in --dtype (benchmark.py --fast), not '
                   'autocast')
    p.add_argument('--max-batches', type=int)
    p.add_argument('--out', help='write the report JSON here')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptions)
    p.add_argument('--non-strict', action='store_true',
                   help='load a checkpoint whose keys do not all match')
    args = p.parse_args(argv)
    from spikeformer_mm.cli import refuse_overwriting_inputs
    refuse_overwriting_inputs(args, ('config', 'checkpoint'), ('out', ))
    from spikeformer_mm.apis import load_config
    from spikeformer_mm.cli import require_files
    from spikeformer_mm.fileio import write_json
    require_files(config=args.config)
    from spikeformer_mm.apis.precision import compare_precision
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = osp.join('work_dirs', 'precision',
                            osp.splitext(osp.basename(args.config))[0])
    rep = compare_precision(cfg, args.checkpoint, args.dtype,
                            args.max_batches, strict=not args.non_strict,
                            fast=args.fast)
    print(json.dumps(rep, indent=2))
    if args.out:
        write_json(args.out, rep)


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
