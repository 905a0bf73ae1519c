"""Test (evaluate) a trained model of spikeformer_mm.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from spikeformer_mm.apis import (build_runner, close_distributed,  # noqa: E402
                                 load_config)
from spikeformer_mm.cli import (end_with_launcher,  # noqa: E402
                                refuse_overwriting_inputs, run_cli)
from spikeformer_mm.apis.inference import load_model_weights  # noqa: E402
from spikeformer_mm.zoo import resolve_checkpoint  # noqa: E402
from spikeformer_mm.fileio import write_json  # noqa: E402
from spikeformer_mm.cli import CfgOptions  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Test (and eval) a model')
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--work-dir', help='the dir to save logs and metrics')
    p.add_argument('--out', help='dump predictions to a pickle file')
    p.add_argument('--metrics-out', help='write the metrics to this JSON file')
    p.add_argument('--amp', action='store_true', help='mixed precision')
    p.add_argument('--non-strict', action='store_true',
                   help='load a checkpoint whose keys do not all match')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptions,
                   help='override settings in the config, key=value')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none', help='job launcher')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    end_with_launcher(args.launcher)
    refuse_overwriting_inputs(args, ('config', 'checkpoint'),
                              ('out', 'metrics_out'))
    checkpoint = resolve_checkpoint(args.checkpoint)  # zoo://, URL or file
    cfg = load_config(args.config, args.cfg_options)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # the checkpoint has the weights
    cfg.load_from = None
    runner = build_runner(cfg, work_dir=args.work_dir, amp=args.amp,
                          launcher=args.launcher, dump=args.out)
    # strict by default: another task's or arch's file is refused, keys
    # named, instead of evaluating random weights (mmengine warns only)
    load_model_weights(runner.model, checkpoint, strict=not args.non_strict)
    metrics = runner.test()
    if args.metrics_out and runner.rank == 0:
        write_json(args.metrics_out, metrics)
    close_distributed()
    return metrics


if __name__ == '__main__':
    run_cli(main)
