"""Spiking classification head of Meta-SpikeFormer."""
from typing import Optional

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead
from spikingjelly.activation_based import functional

from ...registry import MODELS
from ..layers import require_complete_weights
from ..neurons import build_neuron


@MODELS.register_module()
class SpikingClsHead(ClsHead):
    """Average pool per time step, LIF, Linear, mean over T (paper, Sec. 3;
    official ``Spiking_vit_MetaFormer.forward``).

    With ``with_kd=True`` a second Linear (``head_kd``, as in the released
    distilled checkpoints) is trained against a teacher; at eval the output
    is the mean of both heads. Without a teacher both heads learn the labels.

    Args:
        num_classes (int): number of classes.
        in_channels (int): channels of the last backbone tap (the
            per-size model bases write them once, ``tap_channels[-1]``).
        with_kd (bool): add the distillation head. Defaults to False.
        kd_alpha (float): weight of the distillation head's loss, 0.5 in the
            paper's hard distillation. Defaults to 0.5.
        neuron_cfg (dict, optional): the neuron (see
            :func:`~spikeformer_mm.models.neurons.build_neuron`).
        head_input (str): what the class head reads: ``'spikes'`` (the
            neuron's output, V2 and E-SpikeFormer's base models) or
            ``'pooled'`` (the pooled real values: E-SpikeFormer's large
            models, whose distillation head alone reads the neuron's
            output). Defaults to ``'spikes'``.
        loss (dict): mmpretrain loss config.
        init_cfg (dict): defaults to truncated normal (std 0.02) for the
            Linears, zero bias, as the paper's code.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 with_kd: bool = False,
                 kd_alpha: float = 0.5,
                 neuron_cfg: Optional[dict] = None,
                 head_input: str = 'spikes',
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', layer='Linear', std=.02, bias=0.),
                 **kwargs):
        if isinstance(loss, dict) and '_scope_' not in loss:
            # mmpretrain's losses, whatever the caller's default scope
            loss = dict(loss, _scope_='mmpretrain')
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes={num_classes} must be positive')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.with_kd = with_kd
        self.kd_alpha = kd_alpha
        if head_input not in ('spikes', 'pooled'):
            raise ValueError(f"head_input must be 'spikes' or 'pooled', got "
                             f"{head_input!r}")
        self.head_input = head_input
        self.lif = build_neuron(neuron_cfg)
        self.head = nn.Linear(in_channels, num_classes)
        if with_kd:
            self.head_kd = nn.Linear(in_channels, num_classes)
        require_complete_weights(self, 'SpikingClsHead')

    def pre_logits(self, feats):
        """Spikes ``[T, B, C]`` of the pooled last tap."""
        x = feats[-1] if isinstance(feats, (tuple, list)) else feats
        if x.dim() != 5:
            raise ValueError(f'SpikingClsHead expects [T, B, C, H, W] '
                             f'features, got shape {tuple(x.shape)}')
        if x.shape[2] != self.in_channels:
            raise ValueError(f'SpikingClsHead: in_channels={self.in_channels}'
                             f' but the features have {x.shape[2]}')
        functional.reset_net(self)  # fresh neuron state for every batch
        return self.lif(self.pooled(x))

    @staticmethod
    def pooled(x):
        """``[T, B, C, H, W]`` -> the mean over positions ``[T, B, C]``."""
        return x.flatten(3).mean(3)

    def forward_heads(self, feats):
        """Logits of the class head (and the distillation head, or None)."""
        s = self.pre_logits(feats)
        if self.head_input == 'pooled':
            x = feats[-1] if isinstance(feats, (tuple, list)) else feats
            out = self.head(self.pooled(x)).mean(0)
        else:
            out = self.head(s).mean(0)
        kd = self.head_kd(s).mean(0) if self.with_kd else None
        return out, kd

    def forward(self, feats):
        out, kd = self.forward_heads(feats)
        return out if kd is None else (out + kd) / 2

    def loss(self, feats, data_samples, **kwargs):
        out, kd = self.forward_heads(feats)
        losses = self._get_loss(out, data_samples, **kwargs)
        if kd is None:
            return losses
        teacher = [getattr(s, 'teacher_label', None) for s in data_samples]
        if all(t is not None for t in teacher):
            target = torch.stack([torch.as_tensor(t).reshape(()) for t in
                                  teacher]).to(kd.device).long()
        else:
            target = torch.cat([s.gt_label for s in data_samples]).to(kd.device)
        loss_kd = self.loss_module(kd, target, avg_factor=kd.size(0), **kwargs)
        a = self.kd_alpha
        losses['loss'] = (1 - a) * losses['loss'] + a * loss_kd
        losses['loss_kd'] = loss_kd.detach()
        return losses
