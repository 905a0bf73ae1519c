"""Convert an E-SpikeFormer (Spike-driven Transformer V3) checkpoint to this
project's format.

    python tools/model_converters/sdtv3_to_mm.py 19M.pth e-spikeformer-19m_in1k.pth
    python tools/model_converters/sdtv3_to_mm.py 83M_1x8.pth out.pth --max-spike-count 8

The input is what V3's training scripts save (``{'model': ..., 'args':
argparse.Namespace, ...}``): the released base (5.1M, 10M, 19M) and large
(83M, 171M) weights. Which family and size a file is comes from its
tensors and is printed; a file of no known family is refused, naming what
was found. D (the quantiser's largest count: 4 for the "1x4" weights, 8
for "1x8") is in no tensor: give it with --max-spike-count (default 4); it
is recorded in the output's meta.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from spikeformer_mm.cli import refuse_overwriting_inputs, run_cli  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', help='V3 checkpoint (.pth)')
    p.add_argument('dst', help='output checkpoint (.pth)')
    p.add_argument('--max-spike-count', type=int, default=4,
                   help='D of the weights: 4 ("1x4", default) or 8 ("1x8")')
    p.add_argument('--trust', action='store_true',
                   help='unpickle the input fully if it holds objects beyond '
                   'tensors and argparse.Namespace (only for trusted files)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    refuse_overwriting_inputs(args, ('src', ), ('dst', ))
    if args.max_spike_count < 1:
        raise ValueError(f'--max-spike-count must be >= 1, got '
                         f'{args.max_spike_count}')
    from spikeformer_mm.checkpoint import (convert_v3, load_official,
                                           save_checkpoint_file)
    out = convert_v3(load_official(args.src, trust=args.trust),
                     args.max_spike_count, source=args.src)
    save_checkpoint_file(out, args.dst)
    m = out['meta']
    size = m['size'] or 'no released size'
    print(f'{osp.basename(args.src)}: {m["family"]} {size} (arch '
          f'{m["arch"]}), {m["num_classes"]} classes, KD head: '
          f'{m["with_kd"]}, D={m["max_spike_count"]} (given, not in the '
          f'tensors); {len(out["state_dict"])} tensors -> {args.dst}')


if __name__ == '__main__':
    run_cli(main)
