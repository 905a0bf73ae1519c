"""Publish a checkpoint for the zoo: keep only ``state_dict`` and a plain
``meta``, and name the file ``<stem>_<YYYYMMDD>-<first 8 hex of sha256>.pth``.

    python tools/model_converters/publish_model.py IN.pth OUT.pth

``OUT``'s stem names the model (``OUT.pth`` -> ``OUT_20261128-1a2b3c4d.pth``);
it prints the path and the full sha256 to put in a metafile. The result
loads with ``torch.load(weights_only=True)``, and torch.hub / the zoo
recognise the hash in its name.
"""
import argparse
import datetime
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from spikeformer_mm.checkpoint import (load_checkpoint_file,  # noqa: E402
                                       save_checkpoint_file)
from spikeformer_mm.fileio import sha256_file  # noqa: E402
from spikeformer_mm.zoo.download import hash_prefix  # noqa: E402

PLAIN = (str, int, float, bool, type(None))


def plain(obj):
    """``obj`` reduced to JSON-like Python values (numpy scalars -> float,
    tuples -> lists); other objects are dropped."""
    if isinstance(obj, dict):
        return {str(k): v for k, v in ((k, plain(v)) for k, v in obj.items())
                if v is not _DROP}
    if isinstance(obj, (list, tuple)):
        return [v for v in (plain(v) for v in obj) if v is not _DROP]
    if isinstance(obj, PLAIN):
        return obj
    if hasattr(obj, 'item') and getattr(obj, 'ndim', 1) == 0:
        return obj.item()
    return _DROP


_DROP = object()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('in_file')
    p.add_argument('out_file', help='OUT.pth: its stem names the model')
    args = p.parse_args(argv)
    from spikeformer_mm.cli import refuse_overwriting_inputs
    refuse_overwriting_inputs(args, ('in_file', ), ('out_file', ))
    try:
        ck = load_checkpoint_file(args.in_file)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    except Exception as e:  # refused (unsafe) checkpoints
        sys.exit(f'error: {e}')
    sd = ck.get('state_dict', ck) if isinstance(ck, dict) else None
    if not isinstance(sd, dict) or not sd or not all(
            torch.is_tensor(v) for v in sd.values()):
        sys.exit(f'error: {args.in_file} holds no state_dict of tensors')
    stem = osp.basename(args.out_file)
    stem = stem[:-4] if stem.endswith('.pth') else stem
    if '.' in stem:
        sys.exit(f'error: {args.out_file}: the name may not contain "." '
                 '(torch reads the hash from the first "-<hex>." of a name)')
    meta = plain(ck.get('meta', {})) if isinstance(ck, dict) else {}
    out_dir = osp.dirname(osp.abspath(args.out_file))
    tmp = save_checkpoint_file(dict(state_dict=sd, meta=meta),
                               osp.join(out_dir, f'.{stem}.publishing.pth'))
    try:
        digest = sha256_file(tmp)
        date = datetime.date.today().strftime('%Y%m%d')
        final = osp.join(out_dir, f'{stem}_{date}-{digest[:8]}.pth')
        if hash_prefix(final) != digest[:8]:
            raise SystemExit(f'error: {final}: torch would not find the hash '
                             'in this name; choose another stem')
        os.replace(tmp, final)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    print(final)
    print(f'sha256: {digest}')


if __name__ == '__main__':
    from spikeformer_mm.cli import run_cli
    run_cli(main)
