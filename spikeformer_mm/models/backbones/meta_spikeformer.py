"""Meta-SpikeFormer backbone (Spike-driven Transformer V2, Yao et al., ICLR 2024)."""
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from spikingjelly.activation_based import functional

from ...registry import MODELS
from ..compact import compact_spikes
from ..layers import (ATTENTIONS, SHORTCUTS, MSBlock, MSConvBlock,
                      SpikingDownsample)

# Feature taps, numbered as ``out_indices``: (module after which the tap is
# taken, stride with the paper's stride-1 ``downsample4``).
TAPS = (('ConvBlock1_1', 2), ('ConvBlock1_2', 4), ('ConvBlock2_2', 8),
        ('block3', 16), ('block4', 16))

# Frozen-stage groups (``frozen_stages=k`` freezes the first k groups).
STAGES = (('downsample1_1', 'ConvBlock1_1'), ('downsample1_2', 'ConvBlock1_2'),
          ('downsample2', 'ConvBlock2_1', 'ConvBlock2_2'),
          ('downsample3', 'block3'), ('downsample4', 'block4'))


@MODELS.register_module()
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
        neuron_cfg (dict, optional): overrides of the LIF defaults in
            :mod:`spikeformer_mm.models.neurons`.
        frozen_stages (int): freeze the first ``k`` stages (see ``STAGES``)
            in parameters and BN statistics. Defaults to 0.
        norm_eval (bool): keep all BatchNorms in eval mode while training.
        with_cp (bool): gradient checkpointing of each block's branches
            (token mixer and channel MLP; neuron state is reset before the
            recomputation). Defaults to False.
        compact_spikes (bool): while training, keep the spikes that
            backward needs bit-packed (1 bit each) instead of as floats;
            exact, see :mod:`spikeformer_mm.models.compact`. Defaults to
            False.
        deploy (bool | str): build the re-parameterised inference form
            (BatchNorms folded into convs, see
            :mod:`spikeformer_mm.models.deploy`), to load a checkpoint
            written by ``tools/model_converters/reparameterize.py``.
            ``True`` or ``'dense'``: each RepConv one 3x3 conv (the paper's
            form, for GPUs); ``'factorised'``: RepConv kept as 1x1, depthwise
            3x3, 1x1 (fastest on CPUs). Defaults to False (trainable).
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.')`` for a checkpoint of this
            project (see ``tools/model_converters/sdtv2_to_mm.py`` for the
            paper's).
    """
    arch_settings = {
        '15m': dict(embed_dims=[64, 128, 256, 360]),
        '31m': dict(embed_dims=[96, 192, 384, 480]),
        '55m': dict(embed_dims=[128, 256, 512, 640]),
    }
    num_taps = len(TAPS)

    def __init__(self,
                 arch='15M',
                 T=1,
                 in_channels=3,
                 out_indices=(4, ),
                 last_stride=1,
                 shortcut='ms',
                 attention='sdsa_v2',
                 attn_scale=0.125,
                 drop_path_rate=0.,
                 neuron_cfg=None,
                 frozen_stages=0,
                 norm_eval=False,
                 with_cp=False,
                 compact_spikes=False,
                 deploy=False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        arch = self._parse_arch(arch)
        e0, e1, e2, e3 = self.embed_dims = list(arch['embed_dims'])
        self.depths = tuple(arch.get('depths', (6, 2)))
        num_heads = arch.get('num_heads', 8)
        mlp_ratio = arch.get('mlp_ratio', 4)
        for d in (e2, e3):
            if d % num_heads:
                raise ValueError(f'arch: embed dim {d} is not divisible by '
                                 f'num_heads={num_heads}')
        if not isinstance(T, int) or isinstance(T, bool) or T < 1:
            raise ValueError(f'T must be an integer >= 1, got {T!r}')
        if shortcut not in SHORTCUTS:
            raise ValueError(f'shortcut must be one of {SHORTCUTS}, '
                             f'got {shortcut!r}')
        if attention not in ATTENTIONS:
            raise ValueError(f'attention must be one of {ATTENTIONS}, '
                             f'got {attention!r}')
        if last_stride not in (1, 2):
            raise ValueError(f'last_stride must be 1 or 2, got {last_stride}')
        self.T = T
        self.in_channels = in_channels
        self.out_indices = self._parse_out_indices(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.compact_spikes = compact_spikes
        self.out_strides = tuple(s if i < 4 else 16 * last_stride
                                 for i, (_, s) in enumerate(TAPS))
        self.out_channels = (e0 // 2, e0, e1, e2, e3)

        n_blocks = 4 + sum(self.depths)
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, n_blocks)]
        common = dict(shortcut=shortcut, neuron_cfg=neuron_cfg)
        conv = lambda dim, i: nn.ModuleList(  # noqa: E731
            [MSConvBlock(dim, mlp_ratio, drop_path=dpr[i], **common)])
        trans = lambda dim, n, i0: nn.ModuleList([  # noqa: E731
            MSBlock(dim, num_heads, mlp_ratio, attention=attention,
                    attn_scale=attn_scale, drop_path=dpr[i0 + j], **common)
            for j in range(n)
        ])

        self.downsample1_1 = SpikingDownsample(
            in_channels, e0 // 2, 7, 2, 3, first_layer=True, **common)
        self.ConvBlock1_1 = conv(e0 // 2, 0)
        self.downsample1_2 = SpikingDownsample(e0 // 2, e0, **common)
        self.ConvBlock1_2 = conv(e0, 1)
        self.downsample2 = SpikingDownsample(e0, e1, **common)
        self.ConvBlock2_1 = conv(e1, 2)
        self.ConvBlock2_2 = conv(e1, 3)
        self.downsample3 = SpikingDownsample(e1, e2, **common)
        self.block3 = trans(e2, self.depths[0], 4)
        self.downsample4 = SpikingDownsample(
            e2, e3, stride=last_stride, **common)
        self.block4 = trans(e3, self.depths[1], 4 + self.depths[0])
        self.with_cp = with_cp  # after the blocks exist: it is passed on
        self.deploy = deploy
        if deploy:
            from ..deploy import switch_to_deploy
            switch_to_deploy(self, deploy)
        self._freeze_stages()

    # ------------------------------------------------------------------ args
    def _parse_arch(self, arch):
        if isinstance(arch, str):
            key = arch.lower()
            if key not in self.arch_settings:
                raise ValueError(
                    f'Unknown arch {arch!r}: choose one of '
                    f'{sorted(k.upper() for k in self.arch_settings)} or '
                    f'give a dict with "embed_dims"')
            return dict(self.arch_settings[key])
        if not isinstance(arch, dict) or 'embed_dims' not in arch:
            raise ValueError(f'arch must be a name or a dict with '
                             f'"embed_dims", got {arch!r}')
        unknown = set(arch) - {'embed_dims', 'depths', 'num_heads', 'mlp_ratio'}
        if unknown:
            raise ValueError(f'arch: unknown keys {sorted(unknown)}')
        if len(arch['embed_dims']) != 4:
            raise ValueError(f'arch: embed_dims needs 4 values, got '
                             f'{arch["embed_dims"]}')
        if len(arch.get('depths', (6, 2))) != 2:
            raise ValueError('arch: depths needs 2 values (transformer '
                             'blocks of the last two stages)')
        if arch['embed_dims'][0] % 2:
            raise ValueError('arch: embed_dims[0] must be even (the first '
                             'stage has embed_dims[0] // 2 channels)')
        return dict(arch)

    def _parse_out_indices(self, out_indices):
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
    def _freeze_stages(self):
        for names in STAGES[:self.frozen_stages]:
            for name in names:
                m = getattr(self, name)
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    # -------------------------------------------------------------- forward
    def encode(self, x):
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

    def forward(self, x):
        x = self.encode(x)
        functional.reset_net(self)
        with compact_spikes(self.compact_spikes and self.training
                            and torch.is_grad_enabled()):
            return self._forward(x)

    def _forward(self, x):
        outs = []
        tap = 0
        for name in ('downsample1_1', 'ConvBlock1_1', 'downsample1_2',
                     'ConvBlock1_2', 'downsample2', 'ConvBlock2_1',
                     'ConvBlock2_2', 'downsample3', 'block3', 'downsample4',
                     'block4'):
            module = getattr(self, name)
            if isinstance(module, nn.ModuleList):
                for blk in module:
                    x = blk(x)
            else:
                x = module(x)
            if name == TAPS[tap][0]:
                if tap in self.out_indices:
                    outs.append(x)
                tap += 1
                if tap > max(self.out_indices):
                    break
        return self._order(outs)

    def _order(self, outs):
        # ``outs`` is in tap order; return in the order of ``out_indices``.
        by_tap = dict(zip(sorted(set(self.out_indices)), outs))
        return tuple(by_tap[i] for i in self.out_indices)
