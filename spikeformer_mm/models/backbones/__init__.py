from .e_spikeformer import ESpikeFormer, ESpikeFormerLarge
from .meta_spikeformer import MetaSpikeFormer

__all__ = ['MetaSpikeFormer', 'ESpikeFormer', 'ESpikeFormerLarge']
