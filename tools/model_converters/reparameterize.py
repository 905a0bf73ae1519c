"""Write a deploy checkpoint: RepConv and every BatchNorm folded into convs.

    python tools/model_converters/reparameterize.py CONFIG CHECKPOINT OUT.pth \
        [--rep-conv {dense,factorised}]

Load it with the same config and ``--cfg-options model.backbone.deploy=True``
(``deploy=factorised`` for a ``--rep-conv factorised`` checkpoint; inference
only). ``dense`` makes each RepConv one 3x3 conv (the paper's form, best on
GPUs); ``factorised`` keeps it 1x1 / depthwise 3x3 / 1x1 (fastest on CPUs).
The deployed backbone's outputs equal the trained one's to float rounding
(see spikeformer_mm/models/deploy.py).
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
    args = p.parse_args(argv)
    from mmengine.config import Config

    from spikeformer_mm.analysis.runner import build_model
    from spikeformer_mm.checkpoint import save_checkpoint_file
    for what, path in (('config', args.config),
                       ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            sys.exit(f'error: {what} not found: {path}')
    cfg = Config.fromfile(args.config)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # the checkpoint has the weights
    model = build_model(cfg, args.checkpoint, deploy=args.rep_conv)
    save_checkpoint_file(
        dict(state_dict=model.state_dict(),
             meta=dict(deploy=args.rep_conv,
                       source=osp.basename(args.checkpoint))),
        args.out)
    value = 'True' if args.rep_conv == 'dense' else args.rep_conv
    print(f'deploy checkpoint: {args.out} (load with --cfg-options '
          f'model.backbone.deploy={value})')


if __name__ == '__main__':
    main()
