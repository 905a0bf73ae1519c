"""The spikes of a Meta-SpikeFormer (or E-SpikeFormer), per stage and time
step.

Each stage's spikes are those its last block reads its residual stream
with: the first neuron of that block (``SepConv.lif1`` of a conv stage,
``attn.head_lif`` of a transformer stage under the paper's membrane
shortcut; the stage's first neuron otherwise), ``[T, B, C, H, W]``.
Integer neurons' outputs are recorded as counts (E-SpikeFormer's ``k /
4`` as ``k``).
:class:`SpikeRecorder` records them with forward hooks during any forward
of the model (classifier, detector or segmentor alike).
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from ..models.backbones import MetaSpikeFormer
from ..models.neurons import is_neuron


def find_backbone(model: nn.Module) -> MetaSpikeFormer:
    for m in model.modules():
        if isinstance(m, MetaSpikeFormer):
            return m
    raise ValueError('the model has no MetaSpikeFormer backbone')


def stage_neurons(backbone: MetaSpikeFormer) -> Dict[int, nn.Module]:
    """Stage index -> the neuron whose output is that stage's spikes."""
    out = {}
    for s, (down, groups, _) in enumerate(backbone.layout):
        last_block = getattr(backbone, groups[-1])[-1]
        for module in (last_block, getattr(backbone, down)):
            first = next((m for m in module.modules() if is_neuron(m)),
                         None)
            if first is not None:
                out[s] = first
                break
    return out


class SpikeRecorder:
    """Records the spikes of ``stages`` (default: all) while active::

        with SpikeRecorder(model) as rec:
            model.extract_feat(inputs)
        rec.spikes  # {stage: [T, B, C, H, W] float tensor on the CPU}
    """

    def __init__(self, model: nn.Module,
                 stages: Optional[Sequence[int]] = None):
        backbone = find_backbone(model)
        neurons = stage_neurons(backbone)
        stages = sorted(neurons) if stages is None else list(stages)
        bad = [s for s in stages if s not in neurons]
        if bad:
            raise ValueError(f'stages {bad}: the backbone has stages '
                             f'{sorted(neurons)}')
        self.neurons = {s: neurons[s] for s in stages}
        self.spikes: Dict[int, torch.Tensor] = {}
        self._hooks = []

    def _keep(self, stage):
        scale = float(getattr(self.neurons[stage], 'norm', 1.0))

        def hook(module, args, out):
            if torch.is_tensor(out) and out.dim() == 5:
                self.spikes[stage] = out.detach().float().cpu() * scale
        return hook

    def __enter__(self) -> 'SpikeRecorder':
        self.spikes = {}
        self._hooks = [n.register_forward_hook(self._keep(s))
                       for s, n in self.neurons.items()]
        return self

    def __exit__(self, *exc):
        for h in self._hooks:
            h.remove()
        self._hooks = []
