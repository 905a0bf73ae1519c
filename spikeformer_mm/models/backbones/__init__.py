from .meta_spikeformer import MetaSpikeFormer

__all__ = ['MetaSpikeFormer']
