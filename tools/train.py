"""Train a model of spikeformer_mm (classification, detection, segmentation).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

A thin command line over mmengine's Runner, as the OpenMMLab tools; on a
machine without CUDA, distributed runs use gloo (spikeformer_mm.compat).
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
from spikeformer_mm.cli import CfgOptions  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Train a model')
    p.add_argument('config', help='train config file path')
    p.add_argument('--work-dir', help='the dir to save logs and models')
    p.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest '
        'checkpoint in the work dir if none is given')
    p.add_argument('--amp', action='store_true',
                   help='mixed precision (fp16 on CUDA, bf16 on CPU)')
    p.add_argument('--channels-last', action='store_true',
                   help='run in the NHWC memory format (faster on CPUs, '
                   'above all with --amp on a bf16 CPU)')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the lr with the total batch size')
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
    refuse_overwriting_inputs(args, ['config'], ['work_dir'])
    end_with_launcher(args.launcher)
    cfg = load_config(args.config, args.cfg_options)
    runner = build_runner(cfg, work_dir=args.work_dir, resume=args.resume,
                          amp=args.amp, auto_scale_lr=args.auto_scale_lr,
                          channels_last=args.channels_last,
                          launcher=args.launcher, exclusive_work_dir=True)
    runner.train()
    close_distributed()


if __name__ == '__main__':
    run_cli(main)
