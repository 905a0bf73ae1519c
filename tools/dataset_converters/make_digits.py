"""Write (or check) the embedded digits datasets.

    python tools/dataset_converters/make_digits.py classification data/digits_cls
    python tools/dataset_converters/make_digits.py classification \
        data/digits_cls --check

The datasets are built from scikit-learn's bundled digits, with a fixed
train/val split; see ``spikeformer_mm/datasets/digits.py``. The configs
build them on first use, so running this is optional.
"""
import argparse
import sys

from spikeformer_mm.datasets.digits import (WRITERS, build_dataset,
                                            verify_dataset)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('task', choices=sorted(WRITERS))
    p.add_argument('out', help='dataset directory')
    p.add_argument('--size', type=int, default=None,
                   help='image side (classification: 32)')
    p.add_argument('--check', action='store_true',
                   help='only verify the copy; exit 1 if it is not intact')
    p.add_argument('--force', action='store_true', help='rebuild even if intact')
    args = p.parse_args(argv)
    kwargs = {} if args.size is None else dict(size=args.size)
    if args.task == 'classification':
        kwargs.setdefault('size', 32)
    problem = verify_dataset(args.out, args.task, **kwargs)
    if args.check:
        print(problem or f'{args.out}: intact')
        sys.exit(1 if problem else 0)
    if problem is None and not args.force:
        print(f'{args.out}: intact, nothing to do')
        return
    build_dataset(args.out, args.task, **kwargs)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
