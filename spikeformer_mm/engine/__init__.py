"""Runner extensions of spikeformer_mm (hooks, optimizer wrappers)."""
from .hooks import ChannelsLastHook, NaNGuardHook, SpikeVisHook
from .optim_wrapper import AutocastOptimWrapper

__all__ = ['AutocastOptimWrapper', 'ChannelsLastHook', 'NaNGuardHook',
           'SpikeVisHook']
