"""E-SpikeFormer backbones (Spike-driven Transformer V3: "Scaling Spike-driven
Transformer with Efficient Spike Firing Approximation Training", Yao et
al., TPAMI 2025; BICLab/Spike-Driven-Transformer-V3 at 00fcd1f).

Two families, as V3's repository has two model files:

* :class:`ESpikeFormer` (``Model_Base/models.py``,
  ``Spiking_vit_MetaFormer_Spike_SepConv``; the released 5.1M, 10M, 19M
  weights): V2's macro layout (five stages, the same block-group names) at
  T=1 with V3's blocks;
* :class:`ESpikeFormerLarge` (``Model_Large/spikformer.py``,
  ``Spikformer``; the released 83M and 171M weights): three stages, the
  last one 12 transformer blocks with layer scale, and for the 83M a
  ``RepConv2`` branch in each block.

Both are :class:`MetaSpikeFormer` otherwise (``out_indices``, strides,
``frozen_stages``, ``norm_eval``, ``switch_to_deploy``, T-step input,
strict loading of the whole model, the necks and heads of every task), and
their neuron is ``neuron_cfg``: V3's ``MultiSpike`` by default
(:mod:`spikeformer_mm.models.neurons.multispike`), with D=4 ("1x4"; the
large models were also released at D=8, "1x8").
"""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ...registry import MODELS
from ..e_spikeformer_layers import ESBlock, ESConvBlock, ESLargeBlock, \
    ESLargeConvBlock
from ..layers import SpikingDownsample, require_complete_weights
from .meta_spikeformer import LAYOUT, MetaSpikeFormer

# V3's neuron in the base and the large model files (their quantisers round
# and pass gradients differently: multispike.py's table).
V3_BASE_NEURON = dict(type='MultiSpike', max_spike_count=4)
V3_LARGE_NEURON = dict(type='MultiSpike', max_spike_count=4,
                       rounding='half_up', grad_window='open')
# the classification heads' neuron: the same quantiser, counts not divided
# (V3's ``MultiSpike(Norm=1)`` / ``Multispike(norm=1)``)
V3_BASE_HEAD_NEURON = dict(V3_BASE_NEURON, norm=1)
V3_LARGE_HEAD_NEURON = dict(V3_LARGE_NEURON, norm=1)


class _V3Backbone(MetaSpikeFormer):
    """What the two V3 families share: the arguments (as
    :class:`MetaSpikeFormer`'s, less its V2 settings), their checks and the
    stage builder; a family sets ``default_arch``, ``arch_settings`` and
    ``_blocks(kind, dim, n, dpr)``, which makes a stage's blocks."""
    default_neuron = V3_BASE_NEURON

    def __init__(self,
                 arch: Union[str, dict, None] = None,
                 T: int = 1,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int], None] = None,
                 drop_path_rate: float = 0.,
                 neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 frozen_stages: int = 0,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 deploy: Union[bool, str] = False,
                 partial_load_keys: Sequence[str] = (),
                 init_cfg: Optional[dict] = None):
        BaseModule.__init__(self, init_cfg=init_cfg)
        arch = self.default_arch if arch is None else arch
        if out_indices is None:  # the last tap
            out_indices = (self.num_taps - 1, )
        self.arch = arch = self._parse_arch(arch)
        self.embed_dims = list(arch['embed_dims'])
        if not isinstance(T, int) or isinstance(T, bool) or T < 1:
            raise ValueError(f'T must be an integer >= 1, got {T!r}')
        if not -1 <= frozen_stages <= self.num_taps:
            raise ValueError(f'frozen_stages must be in -1..{self.num_taps} '
                             f'(-1 or 0: none), got {frozen_stages}')
        if with_cp:
            raise ValueError(f'{type(self).__name__}: with_cp is not '
                             f'available for the V3 blocks')
        self.T, self.in_channels = T, in_channels
        self.out_indices = self._parse_out_indices(out_indices)
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.compact_spikes = False  # counts are never bit-packed
        self._with_cp = False
        self.neuron_cfg = dict(self.default_neuron, **(neuron_cfg or {}))
        self.norm_cfg = norm_cfg
        self.tap_channels = self.channels_of(arch)
        strides = [2] * (self.num_taps - 1) + [self.last_stride]
        self.tap_strides = tuple(math.prod(strides[:s + 1])
                                 for s in range(self.num_taps))
        sizes = [len(groups) if kind == 'conv' else self._depth(arch, s)
                 for s, (_, groups, kind) in enumerate(self.layout)]
        dpr = iter(torch.linspace(0, drop_path_rate, sum(sizes),
                                  device='cpu').tolist())
        prev = in_channels
        for s, (down, groups, kind) in enumerate(self.layout):
            dim = self.tap_channels[s]
            first = dict(kernel_size=7, padding=3, first_layer=True) \
                if s == 0 else {}
            self.add_module(down, SpikingDownsample(
                prev, dim, stride=strides[s], neuron_cfg=self.neuron_cfg,
                norm_cfg=norm_cfg, **first))
            for name in groups:
                n = 1 if kind == 'conv' else self._depth(arch, s)
                self.add_module(name, nn.ModuleList(
                    self._blocks(kind, dim, n, dpr)))
            prev = dim
        self.deploy = False
        self.partial_load_keys = tuple(partial_load_keys)
        require_complete_weights(self, type(self).__name__,
                                 partial_load_keys)
        if deploy:
            self.switch_to_deploy(deploy)
        self._freeze_stages()


@MODELS.register_module()
class ESpikeFormer(_V3Backbone):
    """E-SpikeFormer base models (V3's ``Spiking_vit_MetaFormer_Spike_SepConv``
    and its factories ``Efficient_Spiking_Transformer_s/m/l``).

    V2's layout (taps 0..4 at strides 2, 4, 8, 16, 16; :class:`MetaSpikeFormer`)
    with V3's blocks: conv stages of ``ESConvBlock`` (a spiking SepConv with
    a neuron before every conv), then 6 and 2 ``ESBlock`` (a 3x3 spiking
    SepConv, the linear attention with a 4x wider V, the MLP). Every
    neuron is V3's ``MultiSpike`` (D=4, output ``count / 4``); V3 trains
    and evaluates at T=1, which is the default.

    Args:
        arch (str | dict): ``'5M'``, ``'10M'``, ``'19M'`` (V3's s/m/l) or a
            dict with ``embed_dims`` (4 ints) and optionally ``depths``
            (6, 2), ``num_heads`` (8), ``mlp_ratio`` (4).
        T (int): time steps (the input repeated; V3: 1).
        neuron_cfg (dict, optional): overrides of V3's neuron
            (:data:`V3_BASE_NEURON`), e.g. ``max_spike_count``.
        norm_cfg (dict, optional): the batch norm of every layer, as
            :class:`MetaSpikeFormer`'s (``BN`` by default, ``SyncBN``).
        attn_scale (float, optional): the attention's scale; None (the
            default) is V3's, ``2 / sqrt(head dim)``.
        Other arguments as :class:`MetaSpikeFormer`'s.
    """
    arch_settings = {
        '5m': dict(embed_dims=[32, 64, 128, 192], depths=(6, 2),
                   num_heads=8, mlp_ratio=4),
        '10m': dict(embed_dims=[48, 96, 192, 240], depths=(6, 2),
                    num_heads=8, mlp_ratio=4),
        '19m': dict(embed_dims=[64, 128, 256, 360], depths=(6, 2),
                    num_heads=8, mlp_ratio=4),
    }
    ARCH_DEFAULTS = dict(depths=(6, 2), num_heads=8, mlp_ratio=4)
    default_arch = '19M'
    last_stride = 1

    def __init__(self, *args, attn_scale: Optional[float] = None, **kwargs):
        self.attn_scale = attn_scale
        super().__init__(*args, **kwargs)

    def _depth(self, arch, s):
        return arch['depths'][s - 3]  # block3, block4

    def _blocks(self, kind, dim, n, dpr):
        a = self.arch
        if kind == 'conv':
            return [ESConvBlock(dim, a['mlp_ratio'], next(dpr),
                                self.neuron_cfg, self.norm_cfg)
                    for _ in range(n)]
        return [ESBlock(dim, a['num_heads'], a['mlp_ratio'], next(dpr),
                        self.neuron_cfg, self.attn_scale, self.norm_cfg)
                for _ in range(n)]


@MODELS.register_module()
class ESpikeFormerLarge(_V3Backbone):
    """E-SpikeFormer large models (V3's ``Spikformer``, factories
    ``spikformer12_512`` = 83M and ``spikformer12_768`` = 171M).

    Three stages: conv stages of ``ESLargeConvBlock`` (plain spiking 3x3
    convs, no SepConv) at strides 2, 4, 8, then 12 ``ESLargeBlock``
    (layer-scaled spiking attention of two-conv projections and MLP; the
    83M adds a ``RepConv2`` branch, ``rep_conv``) at stride 16. Taps 0..3
    after ConvBlock1_1, ConvBlock1_2, ConvBlock2_2 and block3. V3's
    pretraining (its spike-masked autoencoder) is not part of it.

    Args:
        arch (str | dict): ``'83M'`` or ``'171M'``, or a dict with
            ``embed_dims`` (3 ints) and optionally ``depth`` (12),
            ``rep_conv`` (True), ``num_heads`` (8), ``mlp_ratio`` (4),
            ``layer_scale_init`` (1e-6).
        neuron_cfg (dict, optional): overrides of V3's large neuron
            (:data:`V3_LARGE_NEURON`): ``dict(max_spike_count=8, norm=8)``
            for the "1x8" weights.
        Other arguments as :class:`ESpikeFormer`'s.
    """
    layout = LAYOUT[:4]
    num_taps = 4
    arch_settings = {
        '83m': dict(embed_dims=[128, 256, 512], depth=12, rep_conv=True,
                    num_heads=8, mlp_ratio=4, layer_scale_init=1e-6),
        '171m': dict(embed_dims=[196, 384, 768], depth=12, rep_conv=False,
                     num_heads=8, mlp_ratio=4, layer_scale_init=1e-6),
    }
    ARCH_DEFAULTS = dict(depth=12, rep_conv=True, num_heads=8, mlp_ratio=4,
                         layer_scale_init=1e-6)
    default_neuron = V3_LARGE_NEURON
    default_arch = '83M'
    last_stride = 2

    @classmethod
    def _parse_arch(cls, arch) -> dict:
        arch = cls._arch_dict(arch)
        if arch['embed_dims'][-1] % arch['num_heads']:
            raise ValueError(f'arch: embed dim {arch["embed_dims"][-1]} is '
                             f'not divisible by num_heads='
                             f'{arch["num_heads"]}')
        return arch

    def _depth(self, arch, s):
        return arch['depth']

    def _blocks(self, kind, dim, n, dpr):
        a = self.arch
        if kind == 'conv':
            return [ESLargeConvBlock(dim, a['mlp_ratio'], next(dpr),
                                     self.neuron_cfg, self.norm_cfg)
                    for _ in range(n)]
        return [ESLargeBlock(dim, a['num_heads'], a['mlp_ratio'],
                             a['rep_conv'], a['layer_scale_init'], next(dpr),
                             self.neuron_cfg, self.norm_cfg)
                for _ in range(n)]
