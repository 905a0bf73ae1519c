"""Classify an image with a spikeformer_mm classifier (mmpretrain inferencer).

    python demo/image_demo.py IMAGE CONFIG CHECKPOINT [--topk 5] [--out-dir DIR]

Prints the top-k classes; with --out-dir saves mmpretrain's visualization.
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
    p.add_argument('--topk', type=int, default=5)
    p.add_argument('--out-dir', help='save the visualization here')
    p.add_argument('--device', default=None, help='cpu, cuda, cuda:0 ...')
    args = p.parse_args(argv)
    require_files(image=args.img, config=args.config)
    # mmpretrain's inferencer saves OUT_DIR/<the image's file name>
    refuse_overwriting_inputs(
        args, ['img', 'config', 'checkpoint'], [], planned={
            'out_dir': [osp.join(args.out_dir, osp.basename(args.img))]
            if args.out_dir else []})
    from mmpretrain.apis import ImageClassificationInferencer
    read_image(args.img)  # an unreadable file: a ValueError naming it
    model = init_model(args.config, args.checkpoint,
                       device=args.device or 'cpu')
    inferencer = ImageClassificationInferencer(model=model, pretrained=False)
    result = inferencer(args.img, show_dir=args.out_dir)[0]
    scores = result['pred_scores']
    classes = inferencer.classes or [str(i) for i in range(len(scores))]
    order = scores.argsort()[::-1][:args.topk]
    for rank, i in enumerate(order, 1):
        print(f'{rank}. {classes[i]}\t{scores[i]:.4f}')
    if args.out_dir:
        print(f'visualization saved in {args.out_dir}')


if __name__ == '__main__':
    run_cli(main)
