"""Pictures of the spikes of a spikeformer_mm model on one input.

    python tools/analysis_tools/vis_spikes.py CONFIG CKPT INPUT [--out DIR]
        [--stages 0 1 2 3 4] [--channels N] [--cfg-options k=v ...]

INPUT is an image (any config) or an event recording (.bin/.npy, the
event configs of projects/event_digits). Per stage and time step: the spike
map (mean over channels) over the input and the N most active channels;
the firing rate per position; a raster of sampled neurons over T; for
event input an animated GIF of the event frames beside the first stage's
spikes. CKPT 'none' draws the config's initialisation.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from spikeformer_mm.cli import (CfgOptions,  # noqa: E402
                                refuse_overwriting_inputs, run_cli)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', help="weights, or 'none'")
    p.add_argument('input', help='an image or an event recording')
    p.add_argument('--out', default='work_dirs/spikes',
                   help='output folder (default: work_dirs/spikes)')
    p.add_argument('--stages', type=int, nargs='+',
                   help='stages 0..4 (default: all)')
    p.add_argument('--channels', type=int, default=4,
                   help='single channels drawn per stage and step')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptions)
    args = p.parse_args(argv)
    if args.channels < 0:
        raise ValueError(f'--channels must be >= 0, got {args.channels}')
    from spikeformer_mm.apis.spikes import visualize_spikes
    ck = None if args.checkpoint.lower() == 'none' else args.checkpoint
    inputs = ['config', 'checkpoint', 'input']
    refuse_overwriting_inputs(args, inputs, ['out'])
    files = visualize_spikes(
        args.config, ck, args.input, args.out, args.stages, args.channels,
        args.cfg_options, check_paths=lambda paths: refuse_overwriting_inputs(
            args, inputs, [], planned={'out': paths}))
    print(f'{len(files)} pictures in {args.out}')


if __name__ == '__main__':
    run_cli(main)
