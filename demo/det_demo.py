"""Detect (boxes and masks) with a spikeformer_mm Mask R-CNN on any image.

    python demo/det_demo.py IMAGE CONFIG CHECKPOINT [--out result.png] [--score-thr 0.5]

Builds the model with spikeformer_mm's ``init_model`` (strict, safe
loading), runs mmdet's ``inference_detector`` and draws the result with
mmdet's visualizer; a small image is drawn scaled up (nearest neighbour, at
least 512 px on its short side) so that the labels can be read.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import spikeformer_mm  # noqa: E402,F401  (compat fixes)
from spikeformer_mm.apis import init_model  # noqa: E402
from spikeformer_mm.apis.predict import DEMO_SCORE_THR  # noqa: E402
from spikeformer_mm.cli import (refuse_overwriting_inputs,  # noqa: E402
                                require_files, run_cli)
from spikeformer_mm.visualization import read_image  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('img', help='image file')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', default='det_result.png', help='output picture')
    p.add_argument('--score-thr', type=float, default=DEMO_SCORE_THR,
                   help='show detections with at least this score '
                   '(default: %(default)s)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--min-side', type=int, default=512,
                   help='draw images smaller than this scaled up')
    args = p.parse_args(argv)
    refuse_overwriting_inputs(args, ('img', 'config', 'checkpoint'), ('out', ))
    require_files(image=args.img, config=args.config)
    from spikeformer_mm.apis.predict import detect
    read_image(args.img)  # an unreadable file: a ValueError naming it
    model = init_model(args.config, args.checkpoint, device=args.device)
    found = detect(model, args.img, args.out, args.score_thr, args.min_side)
    for name, score, box in found:
        print(f'{name}\t{score:.3f}\t{box}')
    print(f'{len(found)} detections; picture: {args.out}')


if __name__ == '__main__':
    run_cli(main)
