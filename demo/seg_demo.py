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
from spikeformer_mm.visualization import (display_scale, read_image,  # noqa: E402
                                          upscale, upscale_seg_sample)


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
    import numpy as np
    from mmseg.apis import inference_model
    from mmseg.visualization import SegLocalVisualizer
    img = read_image(args.img)
    model = init_model(args.config, args.checkpoint, device=args.device)
    result = inference_model(model, args.img)
    s = display_scale(img.shape, args.min_side)
    vis = SegLocalVisualizer(name='spikeformer_seg_demo', alpha=args.opacity)
    vis.dataset_meta = model.dataset_meta
    vis.add_datasample('result', upscale(img, s),
                       data_sample=upscale_seg_sample(result, s),
                       draw_gt=False, out_file=args.out, with_labels=True)
    pred = result.pred_sem_seg.data[0].cpu().numpy()
    classes = model.dataset_meta['classes']
    ids, counts = np.unique(pred, return_counts=True)
    for i, c in sorted(zip(ids, counts), key=lambda t: -t[1]):
        print(f'{classes[i]}\t{100.0 * c / pred.size:.1f}% of pixels')
    print(f'picture: {args.out}')


if __name__ == '__main__':
    run_cli(main)
