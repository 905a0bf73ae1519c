"""The Transformer block (MSBlock) and its spiking MLP."""

import torch
import torch.nn as nn

from ..neurons import build_neuron
from .time_axis import fold_time, unfold_time
from .fusing import build_norm, fold_bn_pairs
from .residual import TemporalDropPath, residual, run_branch, maybe_neuron
from .attention import SpikingSelfAttention


class SpikingMLP(nn.Module):
    """Channel MLP of the transformer blocks (paper: ``MS_MLP``): SN, 1x1
    conv (with bias) + BN, SN, 1x1 conv + BN.

    The paper runs Conv1d/BN1d on tokens ``[T*B, C, N]``; here the same 1x1
    convs and BNs run as Conv2d/BN2d on ``[T*B, C, H, W]`` (the same
    arithmetic and statistics), because PyTorch copies any non-contiguous
    Conv1d input to NCHW: a ``channels_last`` model would convert layouts
    twice per MLP. The paper's ``[out, in, 1]`` conv weights load as they
    are (a trailing axis is added).

    Args:
        dim (int): channels in and out.
        hidden_dim (int): hidden channels.
        pre_neuron (bool): start with a neuron (membrane shortcut).
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, dim, hidden_dim, pre_neuron=True, neuron_cfg=None,
                 norm_cfg=None):
        super().__init__()
        self.fc1_lif = maybe_neuron(pre_neuron, neuron_cfg)
        self.fc1_conv = nn.Conv2d(dim, hidden_dim, 1)
        self.fc1_bn = build_norm(norm_cfg, hidden_dim)
        self.fc2_lif = build_neuron(neuron_cfg)
        self.fc2_conv = nn.Conv2d(hidden_dim, dim, 1)
        self.fc2_bn = build_norm(norm_cfg, dim)

    @staticmethod
    def from_paper_weight(key, w):
        """A weight of the paper's MLP (``...mlp.fc{1,2}_conv.weight``,
        Conv1d ``[out, in, 1]``) in this module's Conv2d shape; any other
        entry is returned as it is."""
        if torch.is_tensor(w) and w.dim() == 3 and \
                key.endswith(('mlp.fc1_conv.weight', 'mlp.fc2_conv.weight')):
            return w.unsqueeze(-1)
        return w

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ('fc1_conv', 'fc2_conv'):
            key = f'{prefix}{name}.weight'
            if key in state_dict:
                state_dict[key] = self.from_paper_weight(
                    'mlp.' + name + '.weight', state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def switch_to_deploy(self, form='dense'):
        fold_bn_pairs(self, (('fc1_conv', 'fc1_bn'), ('fc2_conv', 'fc2_bn')))

    def forward(self, x):
        T = x.shape[0]
        x = fold_time(self.fc1_lif(x))
        x = unfold_time(self.fc1_bn(self.fc1_conv(x)), T)
        x = self.fc2_bn(self.fc2_conv(fold_time(self.fc2_lif(x))))
        return unfold_time(x, T)


class MSBlock(nn.Module):
    """Transformer-based spiking block (paper: ``MS_Block``):
    ``x = x + SDSA(x)``; ``x = x + MLP(x)``.

    Args:
        dim (int): channels in and out.
        num_heads (int): attention heads.
        mlp_ratio (float): hidden width of the MLP / ``dim``.
        shortcut (str): ``'ms'``, ``'sew'`` or ``'vanilla'``.
        attention (str): ``'sdsa_v2'`` or ``'sdsa_v1'``.
        attn_scale (float): see :class:`SpikingSelfAttention`.
        drop_path (float): stochastic depth of both branches.
        neuron_cfg (dict, optional): overrides of the LIF defaults
            (:data:`spikeformer_mm.models.neurons.NEURON_DEFAULTS`).
        norm_cfg (dict, optional): the batch norm (``dict(type='BN')``).
    """

    def __init__(self, dim, num_heads=8, mlp_ratio=4, shortcut='ms',
                 attention='sdsa_v2', attn_scale=0.125, drop_path=0.,
                 neuron_cfg=None, norm_cfg=None):
        super().__init__()
        pre = shortcut == 'ms'
        self.shortcut = shortcut
        self.attn = SpikingSelfAttention(
            dim, num_heads, scale=attn_scale, attention=attention,
            pre_neuron=pre, neuron_cfg=neuron_cfg, norm_cfg=norm_cfg)
        self.mlp = SpikingMLP(dim, int(dim * mlp_ratio), pre_neuron=pre,
                              neuron_cfg=neuron_cfg, norm_cfg=norm_cfg)
        self.out_lif1 = maybe_neuron(not pre, neuron_cfg)
        self.out_lif2 = maybe_neuron(not pre, neuron_cfg)
        self.drop_path = TemporalDropPath(drop_path)
        self.with_cp = False  # checkpoint the branches (run_branch)

    def forward(self, x):
        x = residual(x, run_branch(self, self.attn, x, self.attn),
                     self.shortcut, self.out_lif1, self.drop_path)
        return residual(x, run_branch(self, self.mlp, x, self.mlp),
                        self.shortcut, self.out_lif2, self.drop_path)
