"""Write a deploy checkpoint: RepConv and every BatchNorm folded into convs.

    python tools/model_converters/reparameterize.py CONFIG CHECKPOINT OUT.pth \
        [--rep-conv {dense,factorised}]

The backbone, and a spiking detector's neck and heads, are folded (every
layer's ``switch_to_deploy``). The checkpoint records its form
(``meta['deploy']``): tools/test.py and ``init_model`` load it with the same
config, deploying the model first (inference only); a backbone alone loads
with ``model.backbone.deploy=True`` (``factorised`` for ``--rep-conv
factorised``). ``dense`` makes each RepConv one 3x3 conv (the paper's form,
best on GPUs); ``factorised`` keeps it 1x1 / depthwise 3x3 / 1x1 (fastest on
CPUs). The deployed model's outputs equal the trained one's to float
rounding (spikeformer_mm/deploy/reparameterize.py).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('out')
    p.add_argument('--rep-conv', choices=('dense', 'factorised'),
                   default='dense',
                   help='deploy form of RepConv (default: dense)')
    p.add_argument('--non-strict', action='store_true',
                   help='load a checkpoint whose keys do not all match')
    args = p.parse_args(argv)
    from spikeformer_mm.cli import refuse_overwriting_inputs
    refuse_overwriting_inputs(args, ('config', 'checkpoint'), ('out', ))
    from spikeformer_mm.apis import init_model
    from spikeformer_mm.checkpoint import save_checkpoint_file
    model = init_model(args.config, args.checkpoint, deploy=args.rep_conv,
                       strict=not args.non_strict)
    save_checkpoint_file(
        dict(state_dict=model.state_dict(),
             meta=dict(deploy=args.rep_conv,
                       source=osp.basename(args.checkpoint))),
        args.out)
    print(f'deploy checkpoint: {args.out} (tools/test.py loads it with the '
          f'same config)')


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
