"""Batches of event frames for an mmdet detector with a spiking backbone."""
from mmdet.models.data_preprocessors import DetDataPreprocessor

from ..registry import MODELS


@MODELS.register_module()
class EventDetDataPreprocessor(DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` (batching, padding to
    ``pad_size_divisor``, the batch shapes the heads read; no mean/std:
    event counts are the input) for frames packed as ``2T`` channels
    (:class:`~spikeformer_mm.datasets.gen1.LoadGen1Window`), handed to the
    backbone as ``[T, B, 2, H, W]``: time step ``t`` sees bin ``t`` of the
    window, no repetition over T.

    Args:
        n_time_bins (int): T (the channels are ``2T``).
        **kwargs: mmdet's ``DetDataPreprocessor`` (``pad_size_divisor``...).
    """

    def __init__(self, n_time_bins: int, **kwargs):
        for key in ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr'):
            if kwargs.get(key):
                raise ValueError(f'EventDetDataPreprocessor: {key} does not '
                                 f'apply to event counts')
        super().__init__(**kwargs)
        self.T = n_time_bins

    def forward(self, data: dict, training: bool = False) -> dict:
        out = super().forward(data, training)
        x = out['inputs'].float()
        B, C, H, W = x.shape
        if C != 2 * self.T:
            raise ValueError(f'EventDetDataPreprocessor: {C} channels, '
                             f'expected 2 x T = {2 * self.T} (ON/OFF per '
                             f'time bin)')
        out['inputs'] = x.view(B, self.T, 2, H, W).transpose(0, 1) \
            .contiguous()
        return out
