"""Benchmark Meta-SpikeFormer: images per second and peak memory.

    python tools/analysis_tools/benchmark.py --arch 15M --T 1 --batch 4 \
        --img-size 224 --mode infer [--dtype bf16] [--fast [--with-cp]] \
        [--engine torch|onnxruntime|openvino] [--rep-conv auto|dense|factorised]
        [--no-channels-last] [--device cpu] [--out result.json]

Without --fast: the plain layer-by-layer model (the paper's arithmetic);
with --fast: the fastest path for the mode (spikeformer_mm/analysis/
benchmark.py says which); --with-cp (training) adds branch checkpointing
for the least memory. --engine onnxruntime/openvino runs the exported
deployed model (inference on the CPU). Warm-up, then the median of several
timed steps; peak tensor memory of one more step and the process's peak
RSS.
"""
import argparse
import json
import os
import os.path as osp
import sys

# quiet the profiler used for CPU peak memory (kineto / c10 log lines)
os.environ.setdefault('KINETO_LOG_LEVEL', '5')
os.environ.setdefault('TORCH_CPP_LOG_LEVEL', 'ERROR')

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def main(argv=None):
    from spikeformer_mm.deploy.engines import ENGINES
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--arch', default='15M', help='15M, 31M or 55M')
    p.add_argument('--T', type=int, default=1)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--mode', choices=['infer', 'train'], default='infer')
    p.add_argument('--dtype', choices=['fp32', 'bf16', 'int8'],
                   default='fp32',
                   help='int8: engines only (the exported model quantized '
                   'by onnxruntime; accuracy: export_onnx.py --int8)')
    p.add_argument('--fast', action='store_true')
    p.add_argument('--with-cp', action='store_true',
                   help='fast training: also checkpoint each branch')
    p.add_argument('--device', default='cpu')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--engine', default='torch',
                   choices=ENGINES,
                   help='inference engine (the last two run the exported '
                   'ONNX model; CPU inference only)')
    p.add_argument('--rep-conv', default='auto',
                   choices=['auto', 'dense', 'factorised'],
                   help='fast inference: the deployed RepConv form (auto: '
                   'the one measured fastest for the device and dtype)')
    p.add_argument('--no-channels-last', action='store_true',
                   help='fast path: keep NCHW (channels_last is the '
                   'default on a CPU)')
    p.add_argument('--out', help='write the result JSON here')
    args = p.parse_args(argv)
    from spikeformer_mm.models import MetaSpikeFormer
    if args.arch.lower() not in MetaSpikeFormer.arch_settings:
        p.error(f'--arch: unknown {args.arch!r}; one of '
                f'{sorted(k.upper() for k in MetaSpikeFormer.arch_settings)}')
    for name in ('T', 'batch', 'img_size', 'repeats'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got '
                    f'{getattr(args, name)}')
    if args.warmup < 0:
        p.error(f'--warmup must be >= 0, got {args.warmup}')
    from spikeformer_mm.analysis.benchmark import run_benchmark
    try:
        res = run_benchmark(args.arch, args.T, args.batch, args.img_size,
                            args.mode, args.dtype, args.fast, args.device,
                            args.warmup, args.repeats, with_cp=args.with_cp,
                            engine=args.engine, rep_conv=args.rep_conv,
                            channels_last=False if args.no_channels_last
                            else None, progress=True)
    except ValueError as e:
        sys.exit(f'error: {e}')
    print(json.dumps(res, indent=2))
    if args.out:
        from spikeformer_mm.fileio import write_json
        write_json(args.out, res)


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
