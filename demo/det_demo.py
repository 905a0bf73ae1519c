"""Detect (boxes and masks) with a spikeformer_mm Mask R-CNN on any image.

    python demo/det_demo.py IMAGE CONFIG CHECKPOINT [--out result.png] [--score-thr 0.3]

Uses mmdet's ``init_detector`` / ``inference_detector`` and draws the result
with mmdet's visualizer.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import spikeformer_mm  # noqa: E402,F401  (compat fixes)
from spikeformer_mm.apis import require_files  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('img', help='image file')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', default='det_result.png', help='output picture')
    p.add_argument('--score-thr', type=float, default=0.3)
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
    require_files(image=args.img, config=args.config,
                  checkpoint=args.checkpoint)
    import mmcv
    from mmdet.apis import inference_detector, init_detector
    from mmdet.registry import VISUALIZERS
    img = mmcv.imread(args.img, channel_order='rgb')
    if img is None:
        sys.exit(f'error: {args.img}: not a readable image')
    model = init_detector(args.config, args.checkpoint, device=args.device)
    result = inference_detector(model, args.img)
    vis = VISUALIZERS.build(dict(type='DetLocalVisualizer',
                                 name='spikeformer_det_demo'))
    vis.dataset_meta = model.dataset_meta
    vis.add_datasample('result', img, data_sample=result, draw_gt=False,
                       pred_score_thr=args.score_thr, out_file=args.out)
    inst = result.pred_instances
    keep = inst.scores >= args.score_thr
    classes = model.dataset_meta.get('classes')
    for box, label, score in zip(inst.bboxes[keep], inst.labels[keep],
                                 inst.scores[keep]):
        name = classes[label] if classes else int(label)
        print(f'{name}\t{float(score):.3f}\t'
              f'{[round(float(v), 1) for v in box]}')
    print(f'{int(keep.sum())} detections; picture: {args.out}')


if __name__ == '__main__':
    main()
