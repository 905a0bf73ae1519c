"""Time axis helpers: activations are ``[T, B, C, H, W]``; convolutions and
BatchNorms run on ``[T*B, ...]``."""
from typing import Optional, Sequence

import torch


def is_channels_last(x: torch.Tensor) -> bool:
    """True for a ``[..., C, H, W]`` tensor laid out channels last (NHWC):
    what a ``channels_last`` model runs on (``[T, B, C, H, W]`` included)."""
    return x.dim() >= 4 and x.shape[-3] > 1 and x.stride(-3) == 1 and \
        x.stride(-1) == x.shape[-3]


def fold_time(x: torch.Tensor) -> torch.Tensor:
    """``[T, B, ...] -> [T*B, ...]``, keeping a channels-last layout (an
    image expanded over T is copied once into NHWC, not into NCHW as
    ``flatten`` would)."""
    if x.dim() == 5 and x.stride(0) == 0 and x.shape[0] > 1 and \
            is_channels_last(x):
        out = torch.empty((x.shape[0] * x.shape[1], ) + x.shape[2:],
                          dtype=x.dtype, device=x.device,
                          memory_format=torch.channels_last)
        out.view(x.shape).copy_(x)
        return out
    return x.flatten(0, 1)


def unfold_time(x: torch.Tensor, T: int) -> torch.Tensor:
    """``[T*B, ...] -> [T, B, ...]``."""
    return x.reshape(T, -1, *x.shape[1:])


def check_time_axis(x: torch.Tensor, who: str, what: str,
                    layout: str = '[T, B, C, H, W]',
                    use: Optional[str] = None) -> None:
    """Raise a ``ValueError`` naming ``who`` and ``what`` unless ``x`` is a
    5-D tensor with time first (``layout``); ``use`` names what would give
    it one."""
    if x.dim() != 5:
        raise ValueError(f'{who}: {what} has shape {tuple(x.shape)}; '
                         f'expected {layout}' +
                         (f' (use {use})' if use else ''))


def check_channels(x: torch.Tensor, in_channels: Sequence[int], i: int,
                   who: str) -> None:
    """Raise a ``ValueError`` unless level ``i`` (``[T, B, C, ...]``) has the
    ``in_channels[i]`` channels the module was built for."""
    if i >= len(in_channels) or x.shape[2] != in_channels[i]:
        want = in_channels[i] if i < len(in_channels) else 'no level'
        raise ValueError(f'{who}: level {i} has {x.shape[2]} channels, but '
                         f'in_channels={list(in_channels)} gives {want}: '
                         f'set in_channels to the backbone\'s out_channels')
