"""Shortcuts, stochastic depth over time, and running a block's branch
(optionally checkpointed)."""
from typing import Callable

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from spikingjelly.activation_based import functional

from ..neurons import build_neuron


SHORTCUTS = ('ms', 'sew', 'vanilla')


class TemporalDropPath(nn.Module):
    """Stochastic depth for ``[T, B, ...]`` tensors.

    mmcv's ``DropPath`` draws one mask entry per element of dim 0, which here
    is time; a sample must be dropped at every time step alike, so the mask
    is drawn over dim 1 (the batch).

    Args:
        drop_prob (float): probability of dropping a sample's branch.
    """

    def __init__(self, drop_prob=0.):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x):
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1. - self.drop_prob
        shape = (1, x.shape[1]) + (1, ) * (x.dim() - 2)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self):
        return f'drop_prob={self.drop_prob}'


def residual(x: torch.Tensor, branch_out: torch.Tensor, shortcut: str,
             out_neuron: nn.Module, drop_path: nn.Module) -> torch.Tensor:
    """Add a branch to its input under one of the three shortcuts."""
    if shortcut == 'ms':
        return x + drop_path(branch_out)
    if shortcut == 'sew':
        return drop_path(out_neuron(branch_out)) + x
    return out_neuron(drop_path(branch_out) + x)


def run_branch(block: nn.Module, fn: Callable, x: torch.Tensor,
               *modules: nn.Module) -> torch.Tensor:
    """``fn(x)``, under gradient checkpointing when ``block.with_cp`` is set
    while training: only ``x`` is kept and ``fn`` runs again in backward,
    after the neurons of ``modules`` are reset to the state they started
    from. Checkpointing per branch (token mixer, channel MLP) rather than
    per block bounds the peak by the largest branch: in the first conv
    block one block's activations are most of the model's.
    (As in mmcv's ``with_cp``, BatchNorm running statistics are updated in
    the recomputation too.)"""
    if not (block.with_cp and block.training
            and x.requires_grad and torch.is_grad_enabled()):
        return fn(x)

    def again(inp):
        for m in modules:
            functional.reset_net(m)
        out = fn(inp)
        # a neuron's state after the branch would hold the recomputed graph
        # (and its saved tensors) until the next forward: drop it
        for m in modules:
            functional.reset_net(m)
        return out

    # no early stop: the recomputation must reach the resets at its end
    with cp.set_checkpoint_early_stop(False):
        return cp.checkpoint(again, x, use_reentrant=False)


def maybe_neuron(enabled, neuron_cfg, **kw):
    return build_neuron(neuron_cfg, **kw) if enabled else nn.Identity()
