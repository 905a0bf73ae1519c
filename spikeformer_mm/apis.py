"""What ``tools/train.py`` and ``tools/test.py`` do, as functions."""
import json
import os
import os.path as osp
import tempfile

import torch
from mmengine.config import Config

from . import compat


def load_config(path, cfg_options=None):
    """Read a config file (mm ``_base_`` inheritance, ``--cfg-options``)."""
    if not osp.isfile(path):
        raise SystemExit(f'error: config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def configure(cfg, work_dir=None, resume=None, load_from=None, amp=False,
              auto_scale_lr=False, launcher='none', config_path=None):
    """Apply the command-line choices of the mm tools to ``cfg``."""
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        stem = osp.splitext(osp.basename(config_path or cfg.filename))[0]
        cfg.work_dir = osp.join('./work_dirs', stem)
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
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        if not osp.isfile(resume):
            raise SystemExit(f'error: --resume checkpoint not found: {resume}')
        cfg.resume, cfg.load_from = True, resume
    if load_from is not None:
        cfg.load_from = load_from
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise SystemExit('error: --auto-scale-lr needs auto_scale_lr.'
                             'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    compat.setup_cpu_distributed(cfg, launcher)
    return cfg


def build_runner(cfg, dump=None, **kwargs):
    """Configure ``cfg`` and build its Runner."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    cfg = configure(cfg, **kwargs)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
        RUNNERS.build(cfg)
    if dump is not None:
        from mmengine.evaluator import DumpResults
        if not dump.endswith(('.pkl', '.pickle')):
            raise SystemExit('error: --out must end with .pkl or .pickle')
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=dump))
    return runner


def close_distributed():
    """Tear the process group down before the interpreter exits. Left to
    interpreter shutdown, a gloo process group can be destroyed while its
    threads are still joinable, and the process aborts (``terminate called
    without an active exception``, SIGABRT) after a successful run."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def write_json(path, obj):
    """Write JSON atomically (temporary file, then rename)."""
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=float)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


def require_files(**paths):
    """Exit with ``error: <what> not found: <path>`` for the first missing
    file (command-line tools)."""
    for what, path in paths.items():
        if path is not None and not osp.isfile(path):
            raise SystemExit(f'error: {what} not found: {path}')
