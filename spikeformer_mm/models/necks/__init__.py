from .spike_to_dense import SpikeToDense, reduce_time

__all__ = ['SpikeToDense', 'reduce_time']
