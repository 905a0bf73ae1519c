"""Configs: reading them and applying the command-line choices of the mm
tools (work dir, resume, amp, launcher...)."""
import os
import os.path as osp
from typing import Optional


import torch
from mmengine.config import Config
from mmengine.runner import Runner

from .. import compat
from ..checkpoint import resume_checkpoint
from ..checkpoint.files import remove_stale_temporaries
from ..checkpoint.files import MissingFileError
from ..zoo import resolve_checkpoint


# The safety policy of configs/_base_/safety.py (docs/reliability.md): the
# module whose import makes mmengine load safely and write atomically, and
# the hooks that stop a run on NaN, make a resumed run equal the
# uninterrupted one and name segmentation labels outside the classes.
SAFETY_IMPORT = 'spikeformer_mm.engine.safe_io'
SAFETY_HOOKS = ('spikeformer_mm.NaNGuardHook',
                'spikeformer_mm.ResumableRandomnessHook',
                'spikeformer_mm.SegLabelCheckHook')


def config_path(name: str) -> str:
    """The file of a config shipped with the package, by its ``NAME``
    relative to ``configs/`` (``classification/metaspikeformer-demo_1xb32_
    digits-t2.py``; the ``.py`` may be left out), from the installed package,
    editable or wheel (``spikeformer_mm/.mim/configs``), so from any working
    directory. mmengine's ``pkg::NAME`` form cannot reach it: mmengine 0.10.7
    resolves ``pkg::`` through a fixed table of OpenMMLab packages
    (``MODULE2PACKAGE`` in ``mmengine/config/utils.py``), which only patching
    its globals would extend. An unknown name is refused with the closest
    shipped ones."""
    import difflib
    import glob

    from ..zoo import config_root
    root = osp.join(config_root(), 'configs')
    rel = name if name.endswith('.py') else name + '.py'
    path = osp.join(root, rel)
    if osp.isfile(path):
        return path
    shipped = sorted(osp.relpath(p, root) for p in
                     glob.glob(osp.join(root, '**', '*.py'), recursive=True)
                     if '_base_' not in p)
    close = difflib.get_close_matches(rel, shipped, n=3, cutoff=0.5)
    raise FileNotFoundError(
        f'config not found: {name} (neither a file nor a config shipped in '
        f'{root}' + (f'; did you mean {", ".join(close)}?)' if close else ')'))


def get_config(name: str, cfg_options: Optional[dict] = None) -> Config:
    """The :class:`~mmengine.config.Config` of a shipped config by name
    (:func:`config_path`), as mmpretrain's ``get_config`` for its own."""
    return load_config(config_path(name), cfg_options)


def with_T(cfg_options: Optional[dict], T: Optional[int]) -> dict:
    """``cfg_options`` with the backbone's T set to ``T`` (the tools'
    ``--T``; None leaves the config's); a T that is not an integer >= 1
    is refused."""
    opts = dict(cfg_options or {})
    if T is not None:
        if not isinstance(T, int) or isinstance(T, bool) or T < 1:
            raise ValueError(f'--T must be an integer >= 1, got {T!r}')
        opts['model.backbone.T'] = T
    return opts


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file (mm ``_base_`` inheritance, ``--cfg-options``);
    a config of this toolbox's models that lost the safety policy (a child
    config that replaced ``custom_imports`` or ``custom_hooks``) gets it
    back, with a warning saying how to keep it
    (:func:`keep_safety_policy`). ``path`` may also name a config shipped
    with the package (:func:`config_path`), from any working directory."""
    if not osp.isfile(path):
        try:
            path = config_path(path)
        except FileNotFoundError as e:
            raise FileNotFoundError(f'config file not found: {path}; {e}') \
                from None
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as e:
        # mmengine parses the text without its file name (<unknown>): find
        # the file of the config or its bases that does not parse
        raise ValueError(_syntax_error_where(path, e)) from None
    if cfg_options:
        for key in new_keys(cfg, cfg_options):
            _warn(key)
        cfg.merge_from_dict(cfg_options)
    keep_safety_policy(cfg, path)
    return cfg


def _names_ours(node) -> bool:
    """True if a (nested) config value names a type of this toolbox."""
    if isinstance(node, dict):
        return any(_names_ours(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_names_ours(v) for v in node)
    return isinstance(node, str) and node.startswith('spikeformer_mm.')


def keep_safety_policy(cfg: Config, path: str = 'the config') -> list:
    """Put back what a config whose model is this toolbox's lost of the
    safety policy: the :data:`SAFETY_IMPORT` in ``custom_imports`` (mm
    replaces a list that a child config sets: ``custom_imports =
    dict(imports=['my_module'])`` drops it) and :data:`SAFETY_HOOK` in
    ``custom_hooks``. Returns what was put back, each with a warning."""
    import importlib
    if not _names_ours(cfg.get('model')):
        return []  # not a model of this toolbox
    fixed = []
    imports = cfg.get('custom_imports') or {}
    names = list(imports.get('imports') or [])
    if SAFETY_IMPORT not in names:
        cfg.custom_imports = dict(imports, imports=names + [SAFETY_IMPORT])
        importlib.import_module(SAFETY_IMPORT)
        fixed.append(f'custom_imports lacks {SAFETY_IMPORT!r}')
    hooks = list(cfg.get('custom_hooks') or [])
    for hook in SAFETY_HOOKS:
        if not any(isinstance(h, dict) and h.get('type') in
                   (hook, hook.split('.')[-1]) for h in hooks):
            hooks.append(dict(type=hook))
            fixed.append(f'custom_hooks lacks {hook}')
    if len(hooks) != len(cfg.get('custom_hooks') or []):
        cfg.custom_hooks = hooks
    for what in fixed:
        _warn(f'{path}: {what} (safe loading, atomic writes and the NaN '
              f'guard of configs/_base_/safety.py); added back. Keep it '
              f'with custom_imports = dict(imports=[*_base_.custom_imports.'
              f'imports, ...]) and custom_hooks = [*_base_.safety_hooks, '
              f'...]')
    return fixed


def new_keys(cfg, options: dict) -> list:
    """A sentence for each ``--cfg-options`` key that is not in ``cfg``
    (mmengine adds it silently: a misspelled key changes nothing), with the
    closest existing key. A new key can be meant (a module argument the
    config leaves at its default), so these are warnings."""
    import difflib
    out = []
    root = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for key in options:
        node, path = root, []
        for part in key.split('.'):
            if isinstance(node, (list, tuple)) and part.isdigit() and \
                    int(part) < len(node):
                node, path = node[int(part)], path + [part]
                continue
            if not isinstance(node, dict):
                break
            if part not in node:
                if path and path[-1] == 'dataset' and \
                        part in _dataset_arguments():
                    break  # an argument every mm dataset takes (indices...)
                close = difflib.get_close_matches(part, [str(k) for k in node],
                                                  n=1, cutoff=0.7)
                where = '.'.join(path) or 'the top level'
                hint = f'; did you mean {".".join(path + close)}?' \
                    if close else ''
                out.append(f'--cfg-options {key}: {where} has no key '
                           f'{part!r}, so it is added as a new key{hint}')
                break
            node, path = node[part], path + [part]
    return out


def _dataset_arguments() -> set:
    """The arguments of mmengine's ``BaseDataset``, which every mm dataset
    takes (``indices``, ``serialize_data``, ``lazy_init`` ...): a
    ``--cfg-options`` key that sets one is no misspelling."""
    import inspect

    from mmengine.dataset import BaseDataset
    return set(inspect.signature(BaseDataset.__init__).parameters) - {'self'}


def _syntax_error_where(path, error):
    """``file, line N: ...`` for the first file of the config (or of its
    local ``_base_`` files, recursively) that does not parse."""
    import ast
    import re
    todo, seen = [osp.abspath(path)], set()
    while todo:
        p = todo.pop(0)
        if p in seen or not osp.isfile(p):
            continue
        seen.add(p)
        with open(p) as f:
            text = f.read()
        try:
            ast.parse(text, filename=p)
        except SyntaxError as e:
            return f'{p}, line {e.lineno}: syntax error ({e.msg})'
        todo += [osp.abspath(osp.join(osp.dirname(p), n)) for n in
                 re.findall(r"['\"]([^'\"]+\.py)['\"]", text)
                 if '::' not in n]
    return f'{path} (or a base): syntax error ({error.msg})'


def innermost_dataset(ds: dict) -> dict:
    """The dataset config inside dataset wrappers (Repeat, Concat...)."""
    while isinstance(ds.get('dataset'), dict) and 'pipeline' not in ds:
        ds = ds['dataset']
    return ds


def configure(cfg: Config, work_dir: Optional[str] = None,
              resume: Optional[str] = None, load_from: Optional[str] = None,
              amp: bool = False, auto_scale_lr: bool = False,
              launcher: str = 'none', config_path: Optional[str] = None,
              channels_last: bool = False,
              exclusive_work_dir: bool = False) -> Config:
    """Apply the command-line choices of the mm tools to ``cfg``. What a
    run guards against (NaN, torn checkpoints, unsafe pickles) is the
    config's own (``configs/_base_/safety.py``), not added here (but
    put back by :func:`load_config` where a child config dropped it)."""
    cfg.launcher = launcher
    if channels_last:
        hooks = list(cfg.get('custom_hooks') or [])
        if not any(str(h.get('type', '')).endswith('ChannelsLastHook')
                   for h in hooks):
            hooks.append(dict(type='spikeformer_mm.ChannelsLastHook'))
        cfg.custom_hooks = hooks
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        stem = osp.splitext(osp.basename(config_path or cfg.filename))[0]
        cfg.work_dir = osp.join('./work_dirs', stem)
    if exclusive_work_dir:
        claim_work_dir(cfg.work_dir)
    if osp.isdir(cfg.work_dir):  # what a kill -9 during a save left
        remove_stale_temporaries(cfg.work_dir, logger=_warn)
    if amp:
        if 'optim_wrapper' in cfg:
            if torch.cuda.is_available():
                cfg.optim_wrapper.type = 'AmpOptimWrapper'
                cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
            else:  # mmengine's AmpOptimWrapper refuses the CPU
                cfg.optim_wrapper.type = 'spikeformer_mm.AutocastOptimWrapper'
        for key in ('val_cfg', 'test_cfg'):
            if cfg.get(key) is not None:
                cfg[key]['fp16'] = True
    if resume == 'auto':
        # mmengine would take the file last_checkpoint names even if a
        # kill -9 tore it; take the newest complete one instead
        ck = resume_checkpoint(cfg.work_dir, logger=_warn)
        cfg.resume, cfg.load_from = ck is not None, ck
    elif resume is not None:
        try:  # a file, zoo://NAME or a URL
            resume = resolve_checkpoint(resume)
        except MissingFileError as e:
            raise MissingFileError(e.path, what='--resume: checkpoint') \
                from None
        cfg.resume, cfg.load_from = True, resume
    if load_from is not None:
        cfg.load_from = load_from
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr.'
                             'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    check_annotation_files(cfg)
    compat.setup_cpu_distributed(cfg, launcher)
    return cfg


_CLAIMED = {}  # work dir -> its open lock file, held until the process ends


def claim_work_dir(work_dir: str) -> None:
    """One training run per work dir: take ``WORK_DIR/.train.lock`` for
    the rest of this process (rank 0 of a distributed run; the other ranks
    share its work dir), or raise :class:`~spikeformer_mm.fileio.
    LockedError` naming the live run's pid. Two runs in one work dir would
    interleave their logs and save over each other's checkpoints and
    ``last_checkpoint``. The kernel releases the lock when the run ends,
    however it ends (``kill -9`` included)."""
    from ..fileio import acquire_lock
    rank = os.environ.get('RANK') or os.environ.get('SLURM_PROCID') or '0'
    key = osp.realpath(work_dir)
    if rank != '0' or key in _CLAIMED:
        return
    _CLAIMED[key] = acquire_lock(
        osp.join(work_dir, '.train.lock'), wait=False,
        what=f'work dir {work_dir} (a training run)')


def check_annotation_files(cfg: Config) -> None:
    """Refuse, naming the file, a JSON annotation file a config points at
    that is empty or truncated (it does not end its top-level object or
    list): COCO's loader would fail deep inside the dataset with a JSON
    error that names no file. Cheap: only the file's end is read."""
    def paths():
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            ds = innermost_dataset((cfg.get(key) or {}).get('dataset') or {})
            ann = ds.get('ann_file')
            if isinstance(ann, str) and ann:
                root = ds.get('data_root') or ''
                yield f'{key}.dataset.ann_file', ann if osp.isabs(ann) \
                    else osp.join(root, ann)
        for key in ('val_evaluator', 'test_evaluator'):
            ev = cfg.get(key)
            for e in ev if isinstance(ev, list) else [ev or {}]:
                if isinstance(e, dict) and isinstance(e.get('ann_file'), str):
                    yield f'{key}.ann_file', e['ann_file']

    for where, path in paths():
        if not path.endswith('.json') or not osp.isfile(path):
            continue  # made on first use, or reported by its loader
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64))
            tail = f.read().rstrip()
        if not tail.endswith((b'}', b']')):
            raise ValueError(f'{where}: {path} is empty or truncated (it '
                             f'does not end a JSON object or list)')


def _warn(msg):
    from mmengine.logging import print_log
    print_log(msg, logger='current', level=30)


def build_runner(cfg: Config, dump: Optional[str] = None, **kwargs) -> Runner:
    """Configure ``cfg`` and build its Runner."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    cfg = configure(cfg, **kwargs)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
        RUNNERS.build(cfg)
    if dump is not None:
        from mmengine.evaluator import DumpResults
        if not dump.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must end with .pkl or .pickle')
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=dump))
    return runner


def close_distributed() -> None:
    """Tear the process group down before the interpreter exits. Left to
    interpreter shutdown, a gloo process group can be destroyed while its
    threads are still joinable, and the process aborts (``terminate called
    without an active exception``, SIGABRT) after a successful run."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


