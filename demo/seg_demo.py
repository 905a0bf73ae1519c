"""Segment any image with a spikeformer_mm Semantic FPN.

    python demo/seg_demo.py IMAGE CONFIG CHECKPOINT [--out result.png] [--opacity 0.5]

Builds the model with spikeformer_mm's ``init_model`` (strict, safe
loading), runs mmseg's ``inference_model`` and draws the predicted
segmentation over the image with mmseg's visualizer; a small image is drawn
scaled up (nearest neighbour, at least 512 px on its short side) so that
the labels can be read.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import spikeformer_mm  # noqa: E402,F401  (compat fixes)
from spikeformer_mm.apis import init_model  # noqa: E402
from spikeformer_mm.cli import (refuse_overwriting_inputs,  # noqa: E402
                                require_files, run_cli)
from spikeformer_mm.visualization import read_image  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('img', help='image file')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', default='seg_result.png', help='output picture')
    p.add_argument('--opacity', type=float, default=0.5)
    p.add_argument('--device', default='cpu')
    p.add_argument('--min-side', type=int, default=512,
                   help='draw images smaller than this scaled up')
    args = p.parse_args(argv)
    refuse_overwriting_inputs(args, ('img', 'config', 'checkpoint'), ('out', ))
    require_files(image=args.img, config=args.config)
    from spikeformer_mm.apis.predict import segment
    read_image(args.img)  # an unreadable file: a ValueError naming it
    model = init_model(args.config, args.checkpoint, device=args.device)
    for name, percent in segment(model, args.img, args.out, args.opacity,
                                 args.min_side):
        print(f'{name}\t{percent:.1f}% of pixels')
    print(f'picture: {args.out}')


if __name__ == '__main__':
    run_cli(main)
