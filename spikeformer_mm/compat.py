"""Fixes for what today's toolchain breaks in the OpenMMLab stack
(docs/stack.md, "What breaks at run time").

Only repairs of the toolchain live here, none of this project's policy
(what a run loads and writes safely is named in the configs: see
:mod:`spikeformer_mm.engine.safe_io` and
``configs/_base_/safety.py``):

1. setuptools >= 82 removed ``pkg_resources``, which mmengine uses to find
   installed packages, breaking ``mmdet::`` / ``mmseg::`` /
   ``mmpretrain::`` base configs. When ``pkg_resources`` is missing,
   :func:`install` (called when ``spikeformer_mm`` is imported, before any
   config is read) replaces those helpers with ``importlib.metadata``
   equivalents.
2. Distributed runs on a machine without CUDA: see
   :func:`setup_cpu_distributed`.
3. CPUs without native bf16 run bf16 convolutions on a slow reference
   kernel: :func:`cpu_bf16_supported` tells, for the tools to refuse or warn
   and for the tests to skip.
"""
import importlib.metadata as im
import importlib.util
import os
import os.path as osp

_INSTALLED = False


def _distribution(package):
    try:
        return im.distribution(package)
    except im.PackageNotFoundError:
        return None


def is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` without pkg_resources."""
    if _distribution(package) is not None:
        return True
    spec = importlib.util.find_spec(package)
    return spec is not None and spec.origin is not None


def package2module(package: str) -> str:
    dist = _distribution(package)
    if dist is None:
        raise ValueError(f'can not infer the module name of {package}')
    top = dist.read_text('top_level.txt')
    if top:
        return top.split('\n')[0]
    for f in dist.files or []:
        parts = f.parts
        if len(parts) > 1 and parts[1] == '__init__.py':
            return parts[0]
    raise ValueError(f'can not infer the module name of {package}')


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` without pkg_resources."""
    dist = _distribution(package)
    if dist is None:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f'package {package!r} is not installed')
        return osp.dirname(spec.origin)
    module = package if importlib.util.find_spec(package) else \
        package2module(package)
    spec = importlib.util.find_spec(module)
    return osp.dirname(spec.origin)


def _patch_package_utils():
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # its deprecation notice
            import pkg_resources  # noqa: F401
        return False
    except ImportError:
        pass
    import mmengine.config.config as config_mod
    import mmengine.utils as utils
    import mmengine.utils.package_utils as pu
    for mod in (pu, utils, config_mod):
        for name, fn in (('is_installed', is_installed),
                         ('get_installed_path', get_installed_path),
                         ('package2module', package2module)):
            if hasattr(mod, name):
                setattr(mod, name, fn)
    return True


def install() -> None:
    """Apply the repairs; idempotent."""
    global _INSTALLED
    if _INSTALLED:
        return
    _patch_package_utils()
    _INSTALLED = True


# Default wait (seconds) of a CPU process group for a rank that is gone.
CPU_DIST_TIMEOUT = 300


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Make ``cfg`` run distributed on gloo when CUDA is unavailable.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and its Runner
    wraps DDP with ``device_ids=[LOCAL_RANK]``; both fail without CUDA. We
    initialise the gloo process group ourselves (the Runner then skips
    ``init_dist``) and build DDP with ``device_ids=None``.

    Returns True when it took over, False when CUDA is there (nothing done).
    """
    import torch
    import torch.distributed as dist
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher not in ('pytorch', 'slurm', 'mpi'):
        raise ValueError(f'unknown launcher {launcher!r}')
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ.get('SLURM_PROCID', '0'))
        os.environ.setdefault('WORLD_SIZE', os.environ.get('SLURM_NTASKS', '1'))
        os.environ.setdefault('LOCAL_RANK',
                              os.environ.get('SLURM_LOCALID', '0'))
    elif launcher == 'mpi':
        os.environ.setdefault('RANK', os.environ.get('OMPI_COMM_WORLD_RANK',
                                                     '0'))
        os.environ.setdefault('WORLD_SIZE',
                              os.environ.get('OMPI_COMM_WORLD_SIZE', '1'))
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    # a rank that stops must not leave the others blocked for gloo's 30
    # minutes: the config's timeout (seconds) or CPU_DIST_TIMEOUT
    timeout = dist_cfg.get('timeout', CPU_DIST_TIMEOUT)
    if not dist.is_initialized():
        import datetime
        dist.init_process_group(
            backend='gloo', timeout=datetime.timedelta(seconds=timeout))
    env_cfg['dist_cfg'] = dict(dist_cfg, backend='gloo', timeout=timeout)
    env_cfg['cudnn_benchmark'] = False
    wrapper = dict(cfg.get('model_wrapper_cfg') or
                   dict(type='MMDistributedDataParallel'))
    wrapper['device_ids'] = None
    cfg['model_wrapper_cfg'] = wrapper
    return True


def cpu_bf16_supported() -> bool:
    """Whether this CPU runs bf16 convolutions natively (oneDNN: AVX-512
    BF16 / AMX or equivalent). Without it they fall back to a reference
    kernel tens of times slower than fp32."""
    import torch
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
