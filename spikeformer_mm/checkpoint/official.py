"""The paper's checkpoint format and its conversion to this project's.

The paper's official checkpoints (``{'model': ..., 'args':
argparse.Namespace, ...}``) are opened only by :func:`load_official` (used
by ``tools/model_converters/sdtv2_to_mm.py``), never by the default
loaders. The conversion checks every key and shape against the
architecture (built from :class:`~spikeformer_mm.models.MetaSpikeFormer`,
imported when a conversion runs).
"""
import argparse
import pickle
from typing import Optional

import torch

from .files import UnsafeCheckpointError, _numpy_globals, require_local


def load_official(filename: str, trust: bool = False) -> dict:
    """Open a checkpoint saved by the paper's training script.

    Only ``argparse.Namespace`` (its ``args``) is allow-listed beyond plain
    tensors; ``trust=True`` falls back to full unpickling for files from a
    source you trust.
    """
    filename = require_local(filename)
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


def official_arch(state_dict: dict) -> tuple:
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

    from ..models.backbones import MetaSpikeFormer
    embed_dims = [e0, e1, e2, e3]
    depths = [depth('block3'), depth('block4')]
    # the paper's code hard-codes 6 + 2 transformer blocks for every size
    # (docs/model.md, "Quirks"): a file with fewer is one with blocks
    # missing, whatever its embed dims, not another architecture
    paper = list(MetaSpikeFormer.ARCH_DEFAULTS['depths'])
    if depths != paper:
        sizes = [n.upper() for n, k in MetaSpikeFormer.arch_settings.items()
                 if list(k['embed_dims']) == embed_dims]
        size = f' (the {sizes[0]} model\'s embed dims)' if sizes else ''
        raise ValueError(
            f'incomplete checkpoint: the paper\'s code always builds '
            f'{paper} transformer blocks in block3/block4, but the file '
            f'holds {depths}, embed dims {embed_dims}{size}')
    arch = dict(embed_dims=embed_dims, depths=depths)
    num_classes = state_dict['head.weight'].shape[0]
    return arch, num_classes, 'head_kd.weight' in state_dict


def official_state_dict(checkpoint, what: str) -> dict:
    """The state_dict of a checkpoint as a paper's training script saves it
    (``{'model': ...}``, or a bare state_dict; DDP's ``module.`` prefix
    dropped); a ValueError saying it is not ``what`` (``'an SDT-V2'``)
    checkpoint otherwise."""
    if not isinstance(checkpoint, dict):
        raise ValueError(f'not {what} checkpoint: a '
                         f'{type(checkpoint).__name__}')
    sd = checkpoint.get('model', checkpoint)
    if not isinstance(sd, dict) or not all(torch.is_tensor(v)
                                           for v in sd.values()):
        raise ValueError(f'not {what} checkpoint: no state_dict of tensors '
                         f'under "model"')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in sd.items()}


def check_keys_and_shapes(state_dict: dict, expected: dict,
                          what: str) -> None:
    """Raise a ValueError naming the missing and unknown keys (the first 20
    and how many) or the wrong shapes of a converted ``state_dict`` against
    ``expected`` (``{key: shape}`` of ``what``)."""
    missing = sorted(set(expected) - set(state_dict))
    unknown = sorted(set(state_dict) - set(expected))
    if missing or unknown:
        raise ValueError(
            f'the checkpoint does not match {what}: missing keys '
            f'{missing[:20]}{" ..." if len(missing) > 20 else ""} '
            f'({len(missing)}), unknown keys {unknown[:20]}'
            f'{" ..." if len(unknown) > 20 else ""} ({len(unknown)})')
    bad = [f'{k}: {tuple(v.shape)} != {tuple(expected[k])}'
           for k, v in state_dict.items() if v.shape != expected[k]]
    if bad:
        raise ValueError(f'wrong shapes: {bad[:20]}')


def official_to_mm_key(key: str) -> str:
    """Official key -> key of an mmpretrain ImageClassifier of this project."""
    if key.startswith('head_kd.') or key.startswith('head.'):
        return 'head.' + key
    return 'backbone.' + key


def convert_official(checkpoint: dict, source: Optional[str] = None) -> dict:
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
    from ..models.backbones import MetaSpikeFormer
    from ..models.layers import SpikingMLP
    sd = official_state_dict(checkpoint, 'an SDT-V2')
    arch, num_classes, with_kd = official_arch(sd)
    sd = {k: SpikingMLP.from_paper_weight(k, v) for k, v in sd.items()}
    backbone = MetaSpikeFormer(arch=arch)
    expected = {k: v.shape for k, v in backbone.state_dict().items()}
    in_dim = arch['embed_dims'][3]
    for h in ('head', 'head_kd') if with_kd else ('head', ):
        expected[f'{h}.weight'] = torch.Size([num_classes, in_dim])
        expected[f'{h}.bias'] = torch.Size([num_classes])
    check_keys_and_shapes(sd, expected, f'the SDT-V2 architecture {arch}')
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
