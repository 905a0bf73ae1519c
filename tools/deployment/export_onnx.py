"""Export a config's deployed model to ONNX and check it in onnxruntime.

    python tools/deployment/export_onnx.py CONFIG CKPT OUT.onnx [--T T] \\
        [--img-size H W] [--dynamic-batch] [--num-images N] [--random] \\
        [--int8 OUT_INT8.onnx [--calib-images N]] [--no-optimize] \\
        [--cfg-options KEY=VALUE ...]

The graph is the re-parameterised model at a fixed T with its neurons
unrolled as plain ops (spikeformer_mm/deploy/onnx.py). After export, N real
images of the config's val set (or random ones with --random) run through
onnxruntime and PyTorch; the max |difference| of the outputs and, for a
classifier, the top-1 agreement are printed; a mismatch is an error
(exit code 1). Classification exports the logits; detection and
segmentation the backbone + neck features. --int8 (classifiers) also
writes the int8 model, calibrated on other val images, and checks its
top-1 agreement with PyTorch fp32 the same way. --no-optimize skips
onnxscript's pattern rewrites (constants still folded): a faster export of
the same outputs, in a graph with a few more nodes.
"""
import argparse
import json
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from spikeformer_mm.cli import (CfgOptions,  # noqa: E402
                                refuse_overwriting_inputs, run_cli)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', help="a file, zoo://NAME, a URL, or 'none' "
                   '(random weights: checks the export only)')
    p.add_argument('out', help='the .onnx file to write')
    p.add_argument('--T', type=int, help="time steps (default: the config's)")
    p.add_argument('--img-size', type=int, nargs=2, metavar=('H', 'W'),
                   help="default: the val images' size (224 with --random)")
    p.add_argument('--dynamic-batch', action='store_true',
                   help='a graph for any batch size (default: fixed)')
    p.add_argument('--num-images', type=int, default=32,
                   help='images for the onnxruntime check')
    p.add_argument('--random', action='store_true',
                   help='check on random images instead of the val set')
    p.add_argument('--deploy-form', choices=['dense', 'factorised'],
                   default='dense', help="RepConv's deployed form")
    p.add_argument('--min-agreement', type=float, default=0.99,
                   help='least top-1 agreement (classifiers)')
    p.add_argument('--atol', type=float, default=1e-3,
                   help='largest feature difference (detection/segmentation)')
    p.add_argument('--int8', metavar='OUT_INT8.onnx',
                   help='also write the int8 model (onnxruntime static '
                   'quantization; classifiers) and check it')
    p.add_argument('--calib-images', type=int, default=32,
                   help='val images for the int8 calibration (the check '
                   'uses the --num-images after them)')
    p.add_argument('--min-int8-agreement', type=float, default=0.95,
                   help='least top-1 agreement of the int8 model with '
                   'PyTorch fp32')
    p.add_argument('--no-optimize', dest='optimize', action='store_false',
                   help="skip onnxscript's pattern rewrites (constants are "
                   'still folded): about 1.5x faster to export, the same '
                   'outputs, a few more nodes')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptions, default={})
    args = p.parse_args(argv)
    refuse_overwriting_inputs(args, ('config', 'checkpoint'), ('out', 'int8'))
    if args.num_images < 1:
        p.error('--num-images must be >= 1')
    from spikeformer_mm.apis.export import export_and_check
    ckpt = None if args.checkpoint.lower() == 'none' else args.checkpoint
    try:
        res = export_and_check(
            args.config, ckpt, args.out, T=args.T, img_size=args.img_size,
            dynamic_batch=args.dynamic_batch, num_images=args.num_images,
            random_images=args.random, cfg_options=args.cfg_options,
            deploy=args.deploy_form, min_agreement=args.min_agreement,
            atol=args.atol, int8=args.int8, calib_images=args.calib_images,
            min_int8_agreement=args.min_int8_agreement,
            optimize=args.optimize)
    except ImportError as e:  # the deploy extra is not installed
        sys.exit(f'error: {e}')
    print(json.dumps(res, indent=1))
    agree = res['top1_agreement']
    print(f"onnxruntime vs PyTorch on {res['images']} images: max |diff| "
          f"{res['max_abs_diff']:.3g}" +
          (f', top-1 agreement {agree:.2%}' if agree is not None else '') +
          f"; wrote {res['onnx']} ({res['size_mb']:.1f} MB)")
    if 'int8' in res:
        q = res['int8']
        print(f"int8 (calibrated on {q['calibrated_on']} other images) vs "
              f"PyTorch fp32 on {q['images']} images: top-1 agreement "
              f"{q['top1_agreement']:.2%}; wrote {q['onnx']} "
              f"({q['size_mb']:.1f} MB)")


if __name__ == '__main__':
    run_cli(main)
