"""Convert a checkpoint of the paper's official code to this project's format.

    python tools/model_converters/sdtv2_to_mm.py 55M_kd.pth sdtv2-55m_in1k.pth

The input is what the paper's training script saves (``{'model': ...,
'args': argparse.Namespace, ...}``, e.g. the released ``55M_kd.pth`` and
``55M_kd_T4.pth``). The output holds ``state_dict`` (keys of an mmpretrain
``ImageClassifier``: ``backbone.*``, ``head.head.*``, ``head.head_kd.*``) and
a plain ``meta``; it loads with ``torch.load(weights_only=True)``.
"""
import argparse
import sys

from spikeformer_mm.checkpoint import (UnsafeCheckpointError, convert_official,
                                       load_official, save_checkpoint_file)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', help='official checkpoint (.pth)')
    p.add_argument('dst', help='output checkpoint (.pth)')
    p.add_argument('--trust', action='store_true',
                   help='unpickle the input fully if it holds objects beyond '
                   'tensors and argparse.Namespace (only for trusted files)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from spikeformer_mm.cli import refuse_overwriting_inputs
    refuse_overwriting_inputs(args, ('src', ), ('dst', ))
    try:
        ckpt = load_official(args.src, trust=args.trust)
        out = convert_official(ckpt, source=args.src)
    except (FileNotFoundError, ValueError, UnsafeCheckpointError) as e:
        sys.exit(f'error: {e}')
    save_checkpoint_file(out, args.dst)
    m = out['meta']
    print(f'converted {len(out["state_dict"])} tensors: embed_dims='
          f'{m["arch"]["embed_dims"]} depths={m["arch"]["depths"]} '
          f'classes={m["num_classes"]} kd_head={m["with_kd"]} -> {args.dst}')


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
