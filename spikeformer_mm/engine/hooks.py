"""Training hooks of spikeformer_mm."""
import math

import torch
from mmengine.hooks import Hook

from ..registry import HOOKS


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Stop training when a loss becomes NaN or infinite, saying where.

    mmdet's ``CheckInvalidLossHook`` asserts on the total loss only; this
    hook names the loss terms that went bad, the epoch and iteration, and
    the parameters that are no longer finite, then raises so the run stops
    instead of training on (checkpoints already written stay as they are).

    Spiking backbones are prone to this when a neuron stays silent: the
    BatchNorm after it sees all-zero inputs and its backward overflows
    (see ``attn_scale`` of ``MetaSpikeFormer``).

    Args:
        interval (int): check every ``interval`` iterations. Defaults to 1.
    """
    priority = 'VERY_HIGH'

    def __init__(self, interval=1):
        self.interval = interval

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        bad = []
        for name, value in outputs.items():
            v = float(value.detach().float().mean()) if torch.is_tensor(
                value) else float(value)
            if not math.isfinite(v):
                bad.append(f'{name}={v}')
        if not bad:
            return
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        params = [n for n, p in model.named_parameters()
                  if not torch.isfinite(p).all()]
        where = (f'non-finite parameters in {len(params)} tensors, first: '
                 f'{params[:5]}' if params else 'all parameters still finite')
        raise RuntimeError(
            f'NaNGuardHook: non-finite loss at epoch {runner.epoch + 1}, '
            f'iteration {runner.iter + 1} ({", ".join(bad)}); {where}. '
            'Lower the learning rate, clip gradients, or check the inputs.')


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Train and test in the ``channels_last`` (NHWC) memory format.

    Before the run, every 4-D weight of the model (backbone, neck, heads) is
    converted in place (the optimizer keeps the same parameter objects; its
    state is created in the same layout). The backbone converts its input
    once (``MetaSpikeFormer._match_weights``), and its neurons, convs, MLPs
    and attention keep NHWC from layer to layer, which is the fast layout of
    oneDNN's convolutions on CPUs, in bf16 above all (README "Speed"). Saved
    checkpoints load into NCHW models as usual. ``tools/train.py
    --channels-last`` adds this hook.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        model.to(memory_format=torch.channels_last)
