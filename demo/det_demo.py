"""Detect (boxes and masks) with a spikeformer_mm Mask R-CNN on any image.

    python demo/det_demo.py IMAGE CONFIG CHECKPOINT [--out result.png] [--score-thr 0.3]

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
from spikeformer_mm.cli import (refuse_overwriting_inputs,  # noqa: E402
                                require_files, run_cli)
from spikeformer_mm.visualization import (display_scale, read_image,  # noqa: E402
                                          upscale, upscale_det_sample)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('img', help='image file')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', default='det_result.png', help='output picture')
    p.add_argument('--score-thr', type=float, default=0.3)
    p.add_argument('--device', default='cpu')
    p.add_argument('--min-side', type=int, default=512,
                   help='draw images smaller than this scaled up')
    args = p.parse_args(argv)
    refuse_overwriting_inputs(args, ('img', 'config', 'checkpoint'), ('out', ))
    require_files(image=args.img, config=args.config)
    from mmdet.apis import inference_detector
    from mmdet.registry import VISUALIZERS
    img = read_image(args.img)
    model = init_model(args.config, args.checkpoint, device=args.device)
    result = inference_detector(model, args.img)
    s = display_scale(img.shape, args.min_side)
    vis = VISUALIZERS.build(dict(type='DetLocalVisualizer',
                                 name='spikeformer_det_demo'))
    vis.dataset_meta = model.dataset_meta
    vis.add_datasample('result', upscale(img, s),
                       data_sample=upscale_det_sample(result, s),
                       draw_gt=False, pred_score_thr=args.score_thr,
                       out_file=args.out)
    inst = result.pred_instances
    keep = inst.scores >= args.score_thr
    classes = (model.dataset_meta or {}).get('classes')
    for box, label, score in zip(inst.bboxes[keep], inst.labels[keep],
                                 inst.scores[keep]):
        name = classes[label] if classes else int(label)
        print(f'{name}\t{float(score):.3f}\t'
              f'{[round(float(v), 1) for v in box]}')
    print(f'{int(keep.sum())} detections; picture: {args.out}')


if __name__ == '__main__':
    run_cli(main)
