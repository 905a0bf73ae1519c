"""Batches of event frames for the spiking backbone: the time axis is kept."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from spikeformer_mm.registry import MODELS


@MODELS.register_module()
class EventDataPreprocessor(BaseDataPreprocessor):
    """Stack ``[T, 2, H, W]`` frames into ``[B, T, 2, H, W]`` and hand the
    backbone ``[T, B, 2, H, W]``: each time step is its own slice of the
    recording (no repetition over T, unlike a static image).

    Frames are padded here, at the bottom and right with zeros (no events),
    to a multiple of ``pad_size_divisor``, for backbones whose strides must
    divide the frame (the dense heads); classification needs none (1).

    Args:
        scale (float): events per pixel and bin are multiplied by this
            (1: the conv sees event counts, the integer input the energy
            model counts as synaptic operations).
        pad_size_divisor (int): see above. Defaults to 1.
        batch_augments: must be None (mmpretrain passes its train_cfg).
    """

    def __init__(self, scale=1.0, pad_size_divisor=1, non_blocking=False,
                 batch_augments=None):
        super().__init__(non_blocking)
        # mmpretrain's ImageClassifier passes its train_cfg here
        if batch_augments:
            raise ValueError('EventDataPreprocessor: batch augments (mixup, '
                             'cutmix) are not supported for event frames')
        self.scale = scale
        self.pad_size_divisor = pad_size_divisor

    def forward(self, data, training=False):
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                raise ValueError(f'EventDataPreprocessor: frames of one '
                                 f'batch differ in shape: {sorted(shapes)}')
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 5:
            raise ValueError(f'EventDataPreprocessor expects [B, T, 2, H, W]'
                             f' frames, got {tuple(inputs.shape)}')
        x = inputs.float().transpose(0, 1).contiguous()  # [T, B, 2, H, W]
        if self.scale != 1:
            x = x * self.scale
        d = self.pad_size_divisor
        h, w = x.shape[-2:]
        ph, pw = (-h) % d, (-w) % d
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        return dict(inputs=x, data_samples=data.get('data_samples'))
