"""Meta-SpikeFormer backbone (Spike-driven Transformer V2, Yao et al., ICLR 2024)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from spikingjelly.activation_based import functional

from ...registry import MODELS
from ...validation import check_choice
from ..packed_spikes import compact_spikes
from ..strict_loading import adapt_input_channels, guard_models_of
from ..layers import (ATTENTIONS, SHORTCUTS, MSBlock, MSConvBlock,
                      SpikingDownsample, is_channels_last, parse_deploy_form,
                      require_complete_weights)

# The layout, written once: five stages, each a downsampling layer then
# block groups. Stage ``s`` has width ``widths[s]`` (``embed_dims[0] // 2``
# then ``embed_dims``), is freeze group ``s`` (``frozen_stages``) and feature
# tap ``s`` (``out_indices``) is its output. Downsampling halves the
# resolution, except ``downsample4`` (``last_stride``: 1 in the paper).
# Group names are the paper's, so its checkpoints map key by key; a group is
# a ModuleList of conv blocks (``'conv'``) or of ``depths[i]`` transformer
# blocks (``'trans'``).
LAYOUT = (
    # downsampling     block groups                       kind
    ('downsample1_1', ('ConvBlock1_1', ), 'conv'),
    ('downsample1_2', ('ConvBlock1_2', ), 'conv'),
    ('downsample2', ('ConvBlock2_1', 'ConvBlock2_2'), 'conv'),
    ('downsample3', ('block3', ), 'trans'),
    ('downsample4', ('block4', ), 'trans'),
)


@MODELS.register_module()
@guard_models_of
class MetaSpikeFormer(BaseModule):
    """Meta-SpikeFormer: conv-based spiking stages then transformer-based
    spiking stages (paper Fig. 2), as the official ``Spiking_vit_MetaFormer``.

    A static image is encoded directly: it is repeated ``T`` times and the
    first conv sees real pixels. Neuron state is reset at every forward.

    Args:
        arch (str | dict): ``'15M'``, ``'31M'``, ``'55M'`` or a dict with
            ``embed_dims`` (4 ints) and optionally ``depths`` (number of
            transformer blocks in the two last stages, default ``(6, 2)``),
            ``num_heads`` (default 8) and ``mlp_ratio`` (default 4).
        T (int): time steps. The paper uses 1 and 4. Defaults to 1.
        in_channels (int): image channels. Defaults to 3.
        out_indices (Sequence[int] | int): taps to return, numbered 0..4:
            0 after ConvBlock1_1 (stride 2), 1 after ConvBlock1_2 (stride 4),
            2 after ConvBlock2_2 (stride 8), 3 after block3 (stride 16),
            4 after block4 (stride 16, or 32 with ``last_stride=2``).
            Defaults to ``(4, )``.
        last_stride (int): stride of ``downsample4``. The paper uses 1 (its
            detection configs nonetheless declared 32 for that map); 2 gives
            the usual stride-32 pyramid for dense tasks. Defaults to 1.
        shortcut (str): ``'ms'`` (membrane shortcut, paper default),
            ``'sew'`` or ``'vanilla'`` (paper Table 5). Defaults to ``'ms'``.
        attention (str): ``'sdsa_v2'`` (paper default) or ``'sdsa_v1'``.
        attn_scale (float): fixed scale of the V2 attention, 0.125 in the
            paper; see :class:`SpikingSelfAttention`. Defaults to 0.125.
        drop_path_rate (float): stochastic depth, rising linearly over all
            12 blocks. The paper's code builds it but never applies it, so
            its models ran with 0. Defaults to 0.
        neuron_cfg (dict, optional): the neuron: ``type`` (``'LIF'``, the
            paper's, by default) and its settings, see
            :mod:`spikeformer_mm.models.neurons`.
        norm_cfg (dict, optional): the batch norm of every layer,
            ``dict(type='BN')`` (default) or ``dict(type='SyncBN')`` for
            distributed training; it folds into the convs at deployment.
        frozen_stages (int): freeze the first ``k`` stages (see ``LAYOUT``)
            in parameters and BN statistics. Defaults to 0.
        norm_eval (bool): keep all BatchNorms in eval mode while training.
        with_cp (bool): gradient checkpointing of each block's branches
            (token mixer and channel MLP; neuron state is reset before the
            recomputation). Defaults to False.
        compact_spikes (bool): while training, keep the spikes that
            backward needs bit-packed (1 bit each) instead of as floats;
            exact, see :mod:`spikeformer_mm.models.packed_spikes`. Defaults to
            False.
        deploy (bool | str): build the re-parameterised inference form
            (BatchNorms folded into convs, see :meth:`switch_to_deploy`), to
            load a checkpoint written by ``tools/model_converters/reparameterize.py``.
            ``True`` or ``'dense'``: each RepConv one 3x3 conv (the paper's
            form, for GPUs); ``'factorised'``: RepConv kept as 1x1, depthwise
            3x3, 1x1 (fastest on CPUs). Defaults to False (trainable).
        partial_load_keys (Sequence[str]): tensors (names relative to the
            backbone) that loaded weights may lack or give another shape;
            they keep their initialisation. Every other tensor must be in
            the weights, in its shape, whichever loader loads them
            (:func:`~spikeformer_mm.models.layers.require_complete_weights`).
            E.g. ``['downsample1_1.encode_conv.weight']`` to start a
            2-channel (event) model from an RGB classifier. Defaults to ().
        adapt_input_conv (bool): load a first conv kernel with another
            number of input channels summed over them and repeated for
            each of this model's
            (:func:`~spikeformer_mm.models.strict_loading.adapt_input_channels`):
            an event model's polarities start from an image classifier's
            first conv instead of random. Defaults to False.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.')`` for a checkpoint of this
            project (see ``tools/model_converters/sdtv2_to_mm.py`` for the
            paper's).
    """
    # The paper's three sizes (Table 2 of the paper / its model files).
    # A dict ``arch`` may leave out everything but ``embed_dims``: the rest
    # is the paper's, which all three sizes share (``ARCH_DEFAULTS``).
    arch_settings = {
        '15m': dict(embed_dims=[64, 128, 256, 360], depths=(6, 2),
                    num_heads=8, mlp_ratio=4),
        '31m': dict(embed_dims=[96, 192, 384, 480], depths=(6, 2),
                    num_heads=8, mlp_ratio=4),
        '55m': dict(embed_dims=[128, 256, 512, 640], depths=(6, 2),
                    num_heads=8, mlp_ratio=4),
    }
    ARCH_DEFAULTS = {k: v for k, v in arch_settings['15m'].items()
                     if k != 'embed_dims'}
    # the stages (a family of another layout, E-SpikeFormer's large models,
    # sets its own)
    layout = LAYOUT
    num_taps = len(LAYOUT)

    def __init__(self,
                 arch: Union[str, dict] = '15M',
                 T: int = 1,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (4, ),
                 last_stride: int = 1,
                 shortcut: str = 'ms',
                 attention: str = 'sdsa_v2',
                 attn_scale: float = 0.125,
                 drop_path_rate: float = 0.,
                 neuron_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 frozen_stages: int = 0,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 compact_spikes: bool = False,
                 deploy: Union[bool, str] = False,
                 partial_load_keys: Sequence[str] = (),
                 adapt_input_conv: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        arch = self._parse_arch(arch)
        self.embed_dims = list(arch['embed_dims'])
        self.depths = tuple(arch['depths'])
        self._check_args(T, shortcut, attention, last_stride,
                         frozen_stages)
        self.T = T
        self.in_channels = in_channels
        self.out_indices = self._parse_out_indices(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.compact_spikes = compact_spikes

        self._build_stages(arch, last_stride, attention, attn_scale,
                           drop_path_rate, dict(shortcut=shortcut,
                                                neuron_cfg=neuron_cfg,
                                                norm_cfg=norm_cfg))
        self.with_cp = with_cp  # after the blocks exist: it is passed on
        self.deploy = False
        if deploy:
            self.switch_to_deploy(deploy)
        self._freeze_stages()
        self.partial_load_keys = tuple(partial_load_keys)
        if adapt_input_conv:  # before the check: it checks the adapted
            adapt_input_channels(
                self, f'{self.layout[0][0]}.encode_conv.weight')
        require_complete_weights(self, 'MetaSpikeFormer', partial_load_keys)

    def _check_args(self, T, shortcut, attention, last_stride,
                    frozen_stages):
        """Refuse an argument the backbone cannot take, naming it."""
        if not isinstance(T, int) or isinstance(T, bool) or T < 1:
            raise ValueError(f'T must be an integer >= 1, got {T!r}')
        check_choice('shortcut', shortcut, SHORTCUTS)
        check_choice('attention', attention, ATTENTIONS)
        if last_stride not in (1, 2):
            raise ValueError(f'last_stride must be 1 or 2, got {last_stride}')
        if not -1 <= frozen_stages <= self.num_taps:
            raise ValueError(f'frozen_stages must be in -1..{self.num_taps} '
                             f'(-1 or 0: none), got {frozen_stages}')

    def _build_stages(self, arch, last_stride, attention, attn_scale,
                      drop_path_rate, common):
        """The downsampling layers and blocks of :data:`LAYOUT`, as the
        paper's code names them; ``common``: what every block takes."""
        num_heads, mlp_ratio = arch['num_heads'], arch['mlp_ratio']
        # width, stride and block count of each stage, from the layout
        self.tap_channels = self.channels_of(arch)
        down_strides = [2] * (self.num_taps - 1) + [last_stride]
        self.tap_strides = tuple(
            int(torch.tensor(down_strides[:s + 1]).prod())
            for s in range(self.num_taps))
        trans_depths = iter(self.depths)
        group_sizes = [[1] * len(groups) if kind == 'conv'
                       else [next(trans_depths)]
                       for _, groups, kind in LAYOUT]
        n_blocks = sum(map(sum, group_sizes))
        dpr = iter(torch.linspace(0, drop_path_rate, n_blocks).tolist())

        prev = self.in_channels
        for s, (down, groups, kind) in enumerate(LAYOUT):
            dim = self.tap_channels[s]
            first = dict(kernel_size=7, padding=3, first_layer=True) \
                if s == 0 else {}
            self.add_module(down, SpikingDownsample(
                prev, dim, stride=down_strides[s], **first, **common))
            for name, n in zip(groups, group_sizes[s]):
                if kind == 'conv':
                    blocks = [MSConvBlock(dim, mlp_ratio, drop_path=next(dpr),
                                          **common) for _ in range(n)]
                else:
                    blocks = [MSBlock(dim, num_heads, mlp_ratio,
                                      attention=attention,
                                      attn_scale=attn_scale,
                                      drop_path=next(dpr), **common)
                              for _ in range(n)]
                self.add_module(name, nn.ModuleList(blocks))
            prev = dim

    # ------------------------------------------------------- feature shapes
    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each returned feature, in ``out_indices`` order."""
        return tuple(self.tap_channels[i] for i in self.out_indices)

    @property
    def out_strides(self) -> Tuple[int, ...]:
        """Stride of each returned feature, in ``out_indices`` order."""
        return tuple(self.tap_strides[i] for i in self.out_indices)

    @property
    def feature_info(self) -> List[dict]:
        """timm-style description of the returned features: ``num_chs``,
        ``reduction`` (stride) and ``module`` (the block group it follows)."""
        return [dict(num_chs=self.tap_channels[i],
                     reduction=self.tap_strides[i],
                     module=self.layout[i][1][-1])
                for i in self.out_indices]

    @classmethod
    def channels_of(cls, arch: Union[str, dict]) -> Tuple[int, ...]:
        """Channels of the five taps of ``arch`` (``embed_dims[0] // 2``,
        then ``embed_dims``), without building the model: what a neck or
        head built beside it takes as ``in_channels``."""
        embed_dims = cls._parse_arch(arch)['embed_dims']
        return (embed_dims[0] // 2, *embed_dims)

    # ------------------------------------------------------------------ args
    @classmethod
    def _parse_arch(cls, arch) -> dict:
        arch = cls._arch_dict(arch)
        n_trans = sum(kind == 'trans' for *_, kind in cls.layout)
        if len(arch['depths']) != n_trans:
            raise ValueError(f'arch: depths needs {n_trans} values '
                             f'(transformer blocks of the last two stages)')
        if arch['embed_dims'][0] % 2:
            raise ValueError('arch: embed_dims[0] must be even (the first '
                             'stage has embed_dims[0] // 2 channels)')
        for d in arch['embed_dims'][-n_trans:]:
            if d % arch['num_heads']:
                raise ValueError(f'arch: embed dim {d} is not divisible by '
                                 f'num_heads={arch["num_heads"]}')
        return arch

    @classmethod
    def _arch_dict(cls, arch) -> dict:
        """A name of ``arch_settings`` or a dict (completed from
        ``ARCH_DEFAULTS``), its keys and its count of embed dims checked:
        what every backbone family's ``_parse_arch`` starts from."""
        if isinstance(arch, str):
            key = arch.lower()
            if key not in cls.arch_settings:
                raise ValueError(
                    f'Unknown arch {arch!r}: choose one of '
                    f'{sorted(k.upper() for k in cls.arch_settings)} or '
                    f'give a dict with "embed_dims"')
            return dict(cls.arch_settings[key])
        if not isinstance(arch, dict) or 'embed_dims' not in arch:
            raise ValueError(f'arch must be a name or a dict with '
                             f'"embed_dims", got {arch!r}')
        unknown = set(arch) - {'embed_dims', *cls.ARCH_DEFAULTS}
        if unknown:
            raise ValueError(f'arch: unknown keys {sorted(unknown)}')
        arch = {**cls.ARCH_DEFAULTS, **arch}
        if len(arch['embed_dims']) != cls.num_taps - 1:
            raise ValueError(f'arch: embed_dims needs {cls.num_taps - 1} '
                             f'values, got {arch["embed_dims"]}')
        return arch

    def _parse_out_indices(self, out_indices) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, Sequence):
            raise TypeError('out_indices must be an int or a sequence, got '
                            f'{type(out_indices).__name__}')
        idx = []
        for i in out_indices:
            j = i + self.num_taps if i < 0 else i
            if not 0 <= j < self.num_taps:
                raise ValueError(f'out_indices: {i} is out of range; taps '
                                 f'are numbered 0..{self.num_taps - 1}')
            idx.append(j)
        return tuple(idx)

    # ----------------------------------------------------------- train mode
    def _stage_modules(self, s: int) -> List[nn.Module]:
        down, groups, _ = self.layout[s]
        return [getattr(self, name) for name in (down, *groups)]

    def _freeze_stages(self):
        for s in range(self.frozen_stages):
            for m in self._stage_modules(s):
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    # --------------------------------------------------------------- deploy
    def switch_to_deploy(self, form: Union[bool, str] = True):
        """Re-parameterise for inference, in place, in eval mode: every
        layer's own ``switch_to_deploy`` folds its BatchNorms into its convs
        and collapses each RepConv (``form``: ``True`` or ``'dense'``, one
        3x3 conv; ``'factorised'``, 1x1 / depthwise 3x3 / 1x1; see
        :data:`~spikeformer_mm.models.layers.REP_CONV_FORMS`). The name is
        the one mmpretrain's ``reparameterize_model.py`` calls."""
        form = parse_deploy_form(form)
        self.eval()
        for m in list(self.modules()):
            if m is not self and hasattr(m, 'switch_to_deploy'):
                m.switch_to_deploy(form)
        functional.invalidate_reset_cache(self)
        self.deploy = form
        return self

    # -------------------------------------------------------------- forward
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` image -> ``[T, B, C, H, W]`` (direct encoding).

        A ``[T, B, C, H, W]`` input (e.g. event frames) is used as it is.
        """
        if not torch.is_tensor(x):
            raise TypeError(f'MetaSpikeFormer expects a tensor, got '
                            f'{type(x).__name__}')
        if x.dim() == 4:
            x = x.unsqueeze(0).expand(self.T, *x.shape)
        elif x.dim() != 5:
            raise ValueError(
                f'MetaSpikeFormer expects images [B, C, H, W] (or a sequence '
                f'[T, B, C, H, W]), got a tensor of shape {tuple(x.shape)}')
        elif x.shape[0] != self.T:
            raise ValueError(f'input sequence has {x.shape[0]} time steps, '
                             f'the backbone was built with T={self.T}')
        if x.shape[2] != self.in_channels:
            raise ValueError(f'MetaSpikeFormer expects {self.in_channels} '
                             f'input channels, got {x.shape[2]} (input '
                             f'shape {tuple(x.shape)})')
        return self._match_weights(x)

    def _match_weights(self, x):
        """Convert the input, once, to the layout and dtype of the weights
        (:func:`spikeformer_mm.deploy.prepare_inference` makes them
        ``channels_last`` and/or bf16), so no layer converts its input."""
        w = getattr(self, self.layout[0][0]).encode_conv.weight
        if x.dtype != w.dtype and x.is_floating_point() and \
                not torch.is_autocast_enabled(x.device.type):
            x = x.to(w.dtype)
        if is_channels_last(w) and not is_channels_last(x):
            # [T, B, C, H, W] with C innermost: NHWC frames
            x = x.movedim(2, -1).contiguous().movedim(-1, 2) if \
                x.stride(0) else x[0].contiguous(
                    memory_format=torch.channels_last).expand_as(x)
        return x

    @property
    def with_cp(self):
        return self._with_cp

    @with_cp.setter
    def with_cp(self, value):
        # each block checkpoints its own branches (layers.run_branch)
        self._with_cp = bool(value)
        for m in self.modules():
            if isinstance(m, (MSBlock, MSConvBlock)):
                m.with_cp = self._with_cp

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Image ``[B, C, H, W]`` (or sequence ``[T, B, C, H, W]``) -> the
        ``[T, B, C_i, H_i, W_i]`` taps of ``out_indices``, in that order."""
        x = self.encode(x)
        functional.reset_net(self)
        with compact_spikes(self.compact_spikes and self.training
                            and torch.is_grad_enabled()):
            return self._forward(x)

    def _forward(self, x):
        outs = {}
        last = max(self.out_indices)
        for s in range(last + 1):
            for m in self._stage_modules(s):
                if isinstance(m, nn.ModuleList):
                    for blk in m:
                        x = blk(x)
                else:
                    x = m(x)
            outs[s] = x
        return tuple(outs[i] for i in self.out_indices)
