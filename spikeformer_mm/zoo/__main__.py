"""python -m spikeformer_mm.zoo {list,download} ..."""
import argparse
import os.path as osp
import sys
from typing import Optional

from . import DownloadError, download_model, list_models


def main(argv: Optional[list] = None) -> None:
    p = argparse.ArgumentParser(prog='python -m spikeformer_mm.zoo',
                                description='The spikeformer_mm model zoo')
    sub = p.add_subparsers(dest='cmd', required=True)
    ls = sub.add_parser('list', help='list the models')
    ls.add_argument('--index', action='append',
                    help='an extra model-index.yml (repeatable)')
    dl = sub.add_parser('download', help='download verified weights')
    dl.add_argument('name')
    dl.add_argument('--dest', help='directory (default: the torch hub cache)')
    dl.add_argument('--index', action='append',
                    help='an extra model-index.yml (repeatable)')
    args = p.parse_args(argv)
    try:
        models = list_models(args.index)
        if args.cmd == 'list':
            w = max([len(n) for n in models] + [4])
            print(f'{"name":<{w}}  {"task":<22} {"weights":<13} config')
            for name, m in models.items():
                task = ((m.get('Results') or [{}])[0] or {}).get('Task', '')
                cfg = m.config
                if cfg and not osp.isfile(cfg):
                    cfg += '  (missing!)'
                print(f'{name:<{w}}  {task:<22} '
                      f'{"yes" if m.get("Weights") else "no (see note)":<13} '
                      f'{cfg or "-"}')
            return
        path = download_model(args.name, dest_dir=args.dest,
                              index=args.index)
        print(path)
    except (DownloadError, KeyError, FileNotFoundError, ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        sys.exit(f'error: {msg}')


if __name__ == '__main__':
    main()
