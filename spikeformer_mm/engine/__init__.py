"""Runner extensions of spikeformer_mm (hooks, optimizer wrappers)."""
from .hooks import (ChannelsLastHook, NaNGuardHook, ResumableRandomnessHook,
                    SegLabelCheckHook, SpikeVisHook)
from .optim_constructor import (GroupedOptimWrapperConstructor,
                                merge_param_groups)
from .optim_wrapper import AutocastOptimWrapper

__all__ = ['AutocastOptimWrapper', 'ChannelsLastHook',
           'GroupedOptimWrapperConstructor', 'NaNGuardHook',
           'ResumableRandomnessHook', 'SegLabelCheckHook', 'SpikeVisHook',
           'merge_param_groups']
