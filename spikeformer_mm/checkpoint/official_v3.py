"""E-SpikeFormer's (Spike-driven Transformer V3) checkpoint format and its
conversion to this project's.

V3's repository releases two model families (``Model_Base``: 5.1M, 10M,
19M; ``Model_Large``: 83M, 171M) in the format of its training script,
``{'model': state_dict, 'epoch': ..., 'args': argparse.Namespace}``.
:func:`v3_arch` tells from the tensors alone which family and size a file
is (the question of V3's issue #9: the released 83M is ``spikformer12_512``
with ``choice='base'``, whose blocks carry a ``rep_conv`` branch; built
with another choice it does not load), and :func:`convert_v3` maps every
key onto :class:`~spikeformer_mm.models.ESpikeFormer` /
:class:`~spikeformer_mm.models.ESpikeFormerLarge` and
``SpikingClsHead``, checking every key and shape.

What the tensors cannot tell is the quantiser's D (V3's large weights were
released at D=4, "1x4", and D=8, "1x8"; no tensor depends on it): the
caller names it (``--max-spike-count`` of the converter tool; 4 by
default), and it is recorded in the output's ``meta``.

Key renames (everything else keeps V3's name):

* the large models' conv blocks wrap conv and BN in spikingjelly's
  ``SeqToANNContainer``: ``ConvBlock*.conv1.0.0.*`` -> ``conv1.0.*``,
  ``conv1.0.1.*`` -> ``conv1.1.*``;
* V3's ``Conv1d`` weights ``[out, in, 1]`` (MLPs, the large projections)
  become this project's 1x1 ``Conv2d`` ``[out, in, 1, 1]``;
* ``head.*`` / ``head_kd.*`` -> ``head.head.*`` / ``head.head_kd.*``.
"""
import re
from typing import Optional, Tuple

import torch

BASE, LARGE = 'ESpikeFormer', 'ESpikeFormerLarge'


def _dims(sd, *names):
    return [int(sd[f'{n}.encode_conv.weight'].shape[0]) for n in names]


def _depth(sd, prefix):
    ids = {int(k.split('.')[1]) for k in sd if k.startswith(prefix + '.')}
    gaps = sorted(set(range(max(ids, default=-1) + 1)) - ids)
    if gaps:
        raise ValueError(f'incomplete checkpoint: {prefix} has no block(s) '
                         f'{gaps}')
    return len(ids)


def v3_arch(sd: dict) -> Tuple[str, dict, Optional[str]]:
    """``(family, arch dict, released size or None)`` of a V3 state_dict,
    from its tensors; a ValueError naming what was found otherwise."""
    if 'downsample1_1.encode_conv.weight' not in sd or \
            'head.weight' not in sd:
        raise ValueError(
            'not an E-SpikeFormer (V3) checkpoint: no downsample1_1.'
            'encode_conv.weight or head.weight (found '
            f'{sorted(sd)[:5]}{" ..." if len(sd) > 5 else ""})')
    from ..models.backbones import ESpikeFormer, ESpikeFormerLarge
    e0 = 2 * int(sd['downsample1_1.encode_conv.weight'].shape[0])
    if 'block3.0.attn.q_conv.0.weight' in sd and \
            'downsample4.encode_conv.weight' in sd:
        family, cls = BASE, ESpikeFormer
        arch = dict(embed_dims=[e0] + _dims(sd, 'downsample2', 'downsample3',
                                            'downsample4'),
                    depths=(_depth(sd, 'block3'), _depth(sd, 'block4')))
        if list(arch['depths']) != [6, 2]:
            raise ValueError(f'incomplete checkpoint: V3\'s base models '
                             f'always have 6 + 2 transformer blocks, the '
                             f'file holds {list(arch["depths"])}')
    elif 'block3.0.attn.q_conv.0.conv1.0.weight' in sd and \
            'block3.0.layer_scale1' in sd:
        family, cls = LARGE, ESpikeFormerLarge
        arch = dict(embed_dims=[e0] + _dims(sd, 'downsample2', 'downsample3'),
                    depth=_depth(sd, 'block3'),
                    rep_conv='block3.0.rep_conv.conv1.0.weight' in sd)
    else:
        found = [k for k in ('downsample4.encode_conv.weight',
                             'block3.0.attn.q_conv.0.weight',
                             'block3.0.attn.q_conv.0.conv1.0.weight',
                             'block3.0.layer_scale1', 'block4.0.attn.'
                             'q_conv.0.weight') if k in sd]
        raise ValueError(
            f'not an E-SpikeFormer (V3) checkpoint of a known family: of '
            f'the keys that tell them apart it has {found or "none"} '
            f'(base: downsample4 and block3.0.attn.q_conv.0.weight; large: '
            f'block3.0.attn.q_conv.0.conv1.0.weight and layer scales). A '
            f'V2 checkpoint converts with sdtv2_to_mm.py.')
    def plain(v):
        return list(v) if isinstance(v, (list, tuple)) else v

    size = next((name.upper() for name, a in cls.arch_settings.items()
                 if all(plain(a[k]) == plain(v) for k, v in arch.items())),
                None)
    return family, arch, size


def _mm_key(key: str) -> str:
    key = re.sub(r'^(ConvBlock\d_\d\.\d+\.conv[12])\.0\.', r'\1.', key)
    if key.startswith(('head.', 'head_kd.')):
        return 'head.' + key
    return 'backbone.' + key


def convert_v3(checkpoint: dict, max_spike_count: int = 4,
               source: Optional[str] = None) -> dict:
    """Convert a V3 checkpoint (as its training script saves it, or a bare
    state_dict) to ``{'state_dict', 'meta'}`` of an mmpretrain
    ``ImageClassifier`` with :class:`~spikeformer_mm.models.ESpikeFormer`
    (or ``ESpikeFormerLarge``) and ``SpikingClsHead``. Every key and
    shape is checked against the architecture the tensors name;
    ``max_spike_count`` (D) is recorded, not checked (module docstring)."""
    from ..models.backbones import ESpikeFormer, ESpikeFormerLarge
    from .official import official_state_dict
    sd = official_state_dict(checkpoint, 'an E-SpikeFormer (V3)')
    family, arch, size = v3_arch(sd)
    num_classes = int(sd['head.weight'].shape[0])
    with_kd = 'head_kd.weight' in sd
    out = {}
    for k, v in sd.items():
        if k.endswith('.weight') and v.dim() == 3 and v.shape[-1] == 1:
            v = v.unsqueeze(-1)  # Conv1d 1x1 -> Conv2d 1x1
        out[_mm_key(k)] = v.detach().clone()
    cls = ESpikeFormer if family == BASE else ESpikeFormerLarge
    with torch.device('meta'):  # shapes only: no memory for a 171M model
        model = cls(arch=arch)
    expected = {f'backbone.{k}': v.shape
                for k, v in model.state_dict().items()}
    in_dim = arch['embed_dims'][-1]
    for h in ('head', 'head_kd') if with_kd else ('head', ):
        expected[f'head.{h}.weight'] = torch.Size([num_classes, in_dim])
        expected[f'head.{h}.bias'] = torch.Size([num_classes])
    from .official import check_keys_and_shapes
    check_keys_and_shapes(out, expected, f'{family} {arch}')
    meta = dict(
        family=family, size=size,
        arch={k: list(v) if isinstance(v, tuple) else v
              for k, v in arch.items()},
        num_classes=num_classes, with_kd=with_kd,
        max_spike_count=int(max_spike_count),
        converted_from=str(source) if source else None,
        epoch=int(checkpoint['epoch']) if isinstance(
            checkpoint.get('epoch'), int) else None)
    return dict(state_dict=out, meta=meta)
