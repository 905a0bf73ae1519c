"""The checkpoint format of this project, defined once.

A checkpoint of spikeformer_mm is what mmengine saves (``state_dict``,
``meta``, and while training ``optimizer``, ``message_hub``,
``param_schedulers``) or, for a published model, only ``state_dict`` and a
plain ``meta`` dict. Every file loads with ``torch.load(weights_only=True)``
given :data:`MMENGINE_SAFE_GLOBALS`: nothing in it needs code to unpickle.

The paper's official checkpoints (``{'model': ..., 'args':
argparse.Namespace, ...}``) are opened only by :func:`load_official` (used
by ``tools/model_converters/sdtv2_to_mm.py``), never by the default loaders.
"""
import argparse
import os
import os.path as osp
import pickle

import numpy as np
import torch

from .fileio import atomic_path


def _numpy_globals():
    """The numpy types that arrays and scalars in mmengine's logs pickle to."""
    out = [np.ndarray, np.dtype]
    for modname in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            mod = __import__(modname, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        out += [mod._reconstruct, mod.scalar]
        break
    # dtype classes (numpy >= 1.25 pickles dtypes as numpy.dtypes.XDType)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        out += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')
                and isinstance(getattr(dtypes, n), type)]
    return out


# HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer, name).
_HISTORY_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name):
    """Stands in for ``builtins.getattr`` while unpickling: it resolves only
    ``HistoryBuffer.<min|max|current|mean>`` and refuses anything else (a
    general getattr would let a file reach module globals)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({getattr(obj, "__name__", type(obj).__name__)}, '
        f'{name!r}) in a checkpoint')


def mmengine_safe_globals():
    """Exactly what mmengine's own checkpoints hold beyond tensors: the
    message hub's ``HistoryBuffer`` (with its four statistics methods,
    reached through a restricted getattr) and numpy arrays, scalars and
    dtypes."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that would need arbitrary code to unpickle."""


def how_to_make(filename):
    """A command that makes the missing checkpoint ``filename``, or ''.

    The configs name two kinds of files a user must provide: the output of
    another config's training run (``work_dirs/<config name>/...``) and a
    converted paper checkpoint (``checkpoints/<zoo name>.pth``, whose
    conversion command the zoo's metafile records)."""
    from .zoo import config_root, list_models
    parts = osp.normpath(str(filename)).split(os.sep)
    if 'work_dirs' in parts[:-1]:
        name = parts[parts.index('work_dirs') + 1]
        if name == 'demo' and len(parts) > parts.index('work_dirs') + 2:
            task = parts[parts.index('work_dirs') + 2]  # tools/demo.py's
            return (f"it is made by the demo's {task} task: python "
                    f'tools/demo.py --tasks {task}')
        root = config_root()
        tasks = osp.join(root, 'configs')
        for task in sorted(os.listdir(tasks)) if osp.isdir(tasks) else []:
            cfg = osp.join('configs', task, name + '.py')
            if osp.isfile(osp.join(root, cfg)):
                return (f'it is made by training {cfg}: python tools/train.py '
                        f'{cfg}')
    stem = osp.splitext(parts[-1])[0]
    try:
        model = list_models().get(stem)
    except (OSError, ValueError):
        model = None
    if model is not None:
        src = model.get('Converted From') or {}
        if src.get('Command'):
            return (f'get the original weights from {src.get("Weights")} and '
                    f'convert them: {src["Command"]}')
        if model.get('Weights'):
            return f'python -m spikeformer_mm.zoo download {stem}'
    return ''


def _require_local(filename):
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        hint = how_to_make(filename)
        raise FileNotFoundError(f'checkpoint not found: {filename}'
                                + (f'; {hint}' if hint else ''))
    return filename


def load_checkpoint_file(filename, map_location='cpu'):
    """Load a local checkpoint with ``weights_only=True`` and the mmengine
    allow-list; refuse, with a message naming the file and what it holds,
    anything that would need arbitrary unpickling. A missing file's error
    says how to make it where the project knows (:func:`how_to_make`)."""
    filename = _require_local(filename)
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
        except pickle.UnpicklingError as e:
            try:
                bad = torch.serialization.get_unsafe_globals_in_checkpoint(
                    filename)
            except Exception:  # not a zip checkpoint: torch says why below
                bad = []
            hint = ''
            if 'argparse.Namespace' in bad:
                hint = (' It looks like a checkpoint of the paper\'s official '
                        'code: convert it with python tools/model_converters/'
                        f'sdtv2_to_mm.py {filename} OUT.pth')
            raise UnsafeCheckpointError(
                f'refusing to load {filename}: it needs arbitrary code to '
                f'unpickle ({", ".join(bad) or e}).{hint}') from None
        except Exception as e:  # truncated, not a checkpoint, ...
            raise ValueError(f'{filename} is not a readable PyTorch '
                             f'checkpoint ({type(e).__name__}: {e})') from None


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not fit the model."""


def _listing(keys, n=5):
    keys = sorted(keys)
    more = f' and {len(keys) - n} more' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def local_checkpoint(filename):
    """A local file for ``filename``: ``zoo://NAME`` and http(s) URLs are
    downloaded, verified, to the cache (:mod:`spikeformer_mm.zoo`); a local
    path must exist (the error says how to make it, see :func:`how_to_make`)."""
    filename = str(filename)
    if filename.startswith('zoo://'):
        from .zoo import download_model
        return download_model(filename[len('zoo://'):])
    if filename.startswith(('http://', 'https://')):
        from .zoo.download import download
        return download(filename)
    return _require_local(filename)


def load_weights(model, filename, strict=True, map_location='cpu'):
    """Load the ``state_dict`` of a checkpoint file into ``model`` (safely,
    see :func:`load_checkpoint_file`); returns the checkpoint's ``meta``.

    With ``strict`` (the default of every tool that evaluates or analyses a
    model) a checkpoint with missing or unexpected keys is refused, the keys
    named; shapes that differ are refused always. Evaluating random weights
    because a file belongs to another architecture or task would print
    plausible-looking metrics.
    """
    filename = local_checkpoint(filename)
    ck = load_checkpoint_file(filename, map_location=map_location)
    sd = ck.get('state_dict', ck) if isinstance(ck, dict) else None
    if not isinstance(sd, dict) or not all(torch.is_tensor(v)
                                           for v in sd.values()):
        raise CheckpointMismatchError(f'{filename} holds no state_dict of '
                                      f'tensors')
    if hasattr(model, 'module'):  # (Distributed)DataParallel
        model = model.module
    if all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    # the paper's Conv1d MLP weights (also in this project's checkpoints
    # made before the MLP ran as Conv2d): one extra axis
    from .models.layers import SpikingMLP
    sd = {k: SpikingMLP.from_paper_weight(k, v) for k, v in sd.items()}
    own = model.state_dict()
    bad_shape = [f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)} in the '
                 f'model' for k, v in sd.items()
                 if k in own and own[k].shape != v.shape]
    if bad_shape:
        raise CheckpointMismatchError(
            f'{filename} does not fit the model: {len(bad_shape)} tensors '
            f'have other shapes ({"; ".join(bad_shape[:3])}): is it a '
            f'checkpoint of another arch or config?')
    result = model.load_state_dict(sd, strict=False)
    missing, unexpected = result.missing_keys, result.unexpected_keys
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f'{len(missing)} of the model\'s tensors are not in '
                         f'it ({_listing(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} of its tensors are not in the '
                         f'model ({_listing(unexpected)})')
        raise CheckpointMismatchError(
            f'{filename} does not fit the model: {"; ".join(parts)}. A '
            f'checkpoint of another task, arch or deploy form? (--non-strict '
            f'loads it anyway)')
    meta = ck.get('meta') if isinstance(ck, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_complete(filename):
    """True if ``filename`` is a whole checkpoint file: torch's zip format
    ends with a central directory, which a torn write (``kill -9``, full
    disk) lacks. Cheap: the tensors are not read."""
    import zipfile
    try:
        with zipfile.ZipFile(filename) as z:
            return bool(z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def resume_checkpoint(work_dir, logger=None):
    """The checkpoint ``--resume`` (auto) should continue from: the one the
    ``last_checkpoint`` pointer of ``work_dir`` names if it is complete,
    else the newest complete ``*.pth`` there (with a warning naming the
    torn one); None when there is none."""
    import glob
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
    if named and osp.isfile(named) and is_complete(named):
        return named
    found = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                   key=osp.getmtime, reverse=True)
    good = next((p for p in found if is_complete(p)), None)
    torn = [p for p in ([named] if named else []) + found
            if p and osp.isfile(p) and not is_complete(p)]
    if torn and logger is not None:
        logger(f'not resuming from {", ".join(sorted(set(torn)))}: '
               f'incomplete checkpoint (an interrupted save); '
               + (f'resuming from {good}' if good else 'starting afresh'))
    return good


def save_checkpoint_file(obj, filename):
    """``torch.save`` to a temporary file beside ``filename``, then rename: a
    failure never leaves a half-written file under the final name."""
    filename = osp.abspath(osp.expanduser(str(filename)))
    with atomic_path(filename, suffix='.pth') as tmp:
        torch.save(obj, tmp)
    return filename


# ----------------------------------------------------------- official format
def load_official(filename, trust=False):
    """Open a checkpoint saved by the paper's training script.

    Only ``argparse.Namespace`` (its ``args``) is allow-listed beyond plain
    tensors; ``trust=True`` falls back to full unpickling for files from a
    source you trust.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    try:
        with torch.serialization.safe_globals([argparse.Namespace] +
                                              _numpy_globals()):
            return torch.load(filename, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        if not trust:
            try:
                bad = torch.serialization.get_unsafe_globals_in_checkpoint(
                    filename)
            except Exception:
                bad = []
            # no advice to unpickle it anyway: the paper's releases hold
            # only tensors and argparse.Namespace, and a file that needs
            # more may run code when unpickled
            raise UnsafeCheckpointError(
                f'refusing to open {filename}: it holds objects beyond '
                f'tensors and argparse.Namespace '
                f'({", ".join(bad) or e}), which the paper\'s checkpoints '
                f'do not.') from None
    except Exception as e:  # truncated, not a checkpoint, ...
        raise ValueError(f'{filename} is not a readable PyTorch checkpoint '
                         f'({type(e).__name__}: {e})') from None
    return torch.load(filename, map_location='cpu', weights_only=False)


def official_arch(state_dict):
    """Infer ``(arch dict, num_classes, with_kd)`` from an official state_dict.

    Raises ValueError naming what is missing when it is not an SDT-V2
    (``Spiking_vit_MetaFormer``) state_dict.
    """
    need = ('downsample1_1.encode_conv.weight', 'downsample2.encode_conv.weight',
            'downsample3.encode_conv.weight', 'downsample4.encode_conv.weight',
            'head.weight')
    missing = [k for k in need if k not in state_dict]
    if missing:
        raise ValueError('not a Spike-driven Transformer V2 checkpoint: '
                         f'missing keys {missing}')
    e0 = 2 * state_dict['downsample1_1.encode_conv.weight'].shape[0]
    e1 = state_dict['downsample2.encode_conv.weight'].shape[0]
    e2 = state_dict['downsample3.encode_conv.weight'].shape[0]
    e3 = state_dict['downsample4.encode_conv.weight'].shape[0]

    def depth(prefix):
        ids = {int(k.split('.')[1]) for k in state_dict
               if k.startswith(prefix + '.')}
        gaps = sorted(set(range(max(ids, default=-1) + 1)) - ids)
        if gaps:
            raise ValueError(f'incomplete checkpoint: {prefix} has no '
                             f'block(s) {gaps}')
        return len(ids)

    from .models.backbones import MetaSpikeFormer
    embed_dims = [e0, e1, e2, e3]
    depths = [depth('block3'), depth('block4')]
    # the paper's sizes have fixed depths: fewer blocks than its size has
    # is a checkpoint with blocks missing, not another architecture
    for name, known in MetaSpikeFormer.arch_settings.items():
        if list(known['embed_dims']) == embed_dims and \
                list(known['depths']) != depths:
            raise ValueError(
                f'incomplete checkpoint: embed dims {embed_dims} are the '
                f'{name.upper()} model\'s, which has {list(known["depths"])} '
                f'transformer blocks in block3/block4, but the file holds '
                f'{depths}')
    arch = dict(embed_dims=embed_dims, depths=depths)
    num_classes = state_dict['head.weight'].shape[0]
    return arch, num_classes, 'head_kd.weight' in state_dict


def official_to_mm_key(key):
    """Official key -> key of an mmpretrain ImageClassifier of this project."""
    if key.startswith('head_kd.') or key.startswith('head.'):
        return 'head.' + key
    return 'backbone.' + key


def convert_official(checkpoint, source=None):
    """Convert an official SDT-V2 checkpoint to this project's format.

    Args:
        checkpoint (dict): as the paper's script saves it (``{'model': sd,
            'args': ..., 'epoch': ...}``) or a bare state_dict.
        source (str, optional): recorded in ``meta['converted_from']``.

    Returns:
        dict: ``{'state_dict': ..., 'meta': {...}}`` for an mmpretrain
        ``ImageClassifier`` with ``MetaSpikeFormer`` and ``SpikingClsHead``.

    Raises:
        ValueError: the checkpoint is not an SDT-V2 one, or has missing or
            unknown keys or wrong shapes (all named).
    """
    from .models.backbones import MetaSpikeFormer
    if not isinstance(checkpoint, dict):
        raise ValueError(f'not an SDT-V2 checkpoint: a {type(checkpoint)}')
    sd = checkpoint.get('model', checkpoint)
    if not isinstance(sd, dict) or not all(torch.is_tensor(v)
                                           for v in sd.values()):
        raise ValueError('not an SDT-V2 checkpoint: no state_dict of '
                         'tensors under "model"')
    sd = {k[len('module.'):] if k.startswith('module.') else k: v
          for k, v in sd.items()}
    arch, num_classes, with_kd = official_arch(sd)
    from .models.layers import SpikingMLP
    sd = {k: SpikingMLP.from_paper_weight(k, v) for k, v in sd.items()}
    backbone = MetaSpikeFormer(arch=arch)
    expected = {k: v.shape for k, v in backbone.state_dict().items()}
    in_dim = arch['embed_dims'][3]
    for h in ('head', 'head_kd') if with_kd else ('head', ):
        expected[f'{h}.weight'] = torch.Size([num_classes, in_dim])
        expected[f'{h}.bias'] = torch.Size([num_classes])
    missing = sorted(set(expected) - set(sd))
    unknown = sorted(set(sd) - set(expected))
    if missing or unknown:
        raise ValueError(
            'the checkpoint does not match the SDT-V2 architecture '
            f'{arch}: missing keys {missing[:20]}'
            f'{" ..." if len(missing) > 20 else ""} ({len(missing)}), '
            f'unknown keys {unknown[:20]}'
            f'{" ..." if len(unknown) > 20 else ""} ({len(unknown)})')
    bad = [f'{k}: {tuple(v.shape)} != {tuple(expected[k])}'
           for k, v in sd.items() if v.shape != expected[k]]
    if bad:
        raise ValueError(f'wrong shapes: {bad[:20]}')
    state_dict = {official_to_mm_key(k): v.detach().clone()
                  for k, v in sd.items()}
    meta = dict(
        arch=dict(embed_dims=list(arch['embed_dims']),
                  depths=list(arch['depths'])),
        num_classes=int(num_classes),
        with_kd=bool(with_kd),
        converted_from=str(source) if source else None,
        epoch=int(checkpoint['epoch']) if isinstance(
            checkpoint.get('epoch'), int) else None,
    )
    return dict(state_dict=state_dict, meta=meta)
