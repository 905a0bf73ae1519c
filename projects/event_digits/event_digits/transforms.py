"""Event pipeline: read a recording, bin it into frames with tonic, pack."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from spikeformer_mm.registry import TRANSFORMS

from .nmnist import read_events


@TRANSFORMS.register_module()
class LoadEvents(BaseTransform):
    """Read the events of ``results['img_path']`` (``.bin`` or ``.npy``,
    checked: see :func:`event_digits.nmnist.read_events`) into
    ``results['events']``.

    Args:
        sensor_size (tuple): (width, height) of the sensor.
    """

    def __init__(self, sensor_size=(34, 34)):
        self.sensor_size = tuple(sensor_size)

    def transform(self, results):
        results['events'] = read_events(results['img_path'],
                                        self.sensor_size)
        return results


@TRANSFORMS.register_module()
class EventsToFrames(BaseTransform):
    """Bin events into ``[T, 2, H, W]`` event-count frames with tonic's
    ``ToFrame(n_time_bins=T)`` (after tonic's ``Denoise`` if
    ``denoise_us``, and tonic's ``Downsample`` if ``spatial_factor`` < 1):
    time step ``t`` of the backbone sees the events of the ``t``-th slice
    of the recording.

    Args:
        sensor_size (tuple): (width, height) of the sensor.
        n_time_bins (int): T, the backbone's time steps.
        denoise_us (int, optional): drop events with no neighbour event
            within this many microseconds (tonic ``Denoise``).
        spatial_factor (float): scale pixel coordinates by this factor
            (tonic ``Downsample``; events of merged pixels add up), so the
            frames are ``floor(H * f) x floor(W * f)``. Defaults to 1.
    """

    def __init__(self, sensor_size=(34, 34), n_time_bins=4, denoise_us=None,
                 spatial_factor=1.0):
        import tonic.transforms as tt
        if not 0 < spatial_factor <= 1:
            raise ValueError('EventsToFrames: spatial_factor must be in '
                             f'(0, 1], got {spatial_factor}')
        w, h = sensor_size
        self.downsample = None
        if spatial_factor < 1:
            self.downsample = tt.Downsample(spatial_factor=spatial_factor)
            w, h = int(w * spatial_factor), int(h * spatial_factor)
        self.to_frame = tt.ToFrame(sensor_size=(w, h, 2),
                                   n_time_bins=n_time_bins)
        self.denoise = tt.Denoise(filter_time=denoise_us) if denoise_us \
            else None
        self.n_time_bins = n_time_bins

    def transform(self, results):
        ev = results.pop('events')
        if self.denoise is not None:
            ev = self.denoise(ev)
        if self.downsample is not None:
            ev = self.downsample(ev)
        frames = self.to_frame(ev).astype(np.float32)  # [T, 2, H, W]
        results['img'] = frames
        results['img_shape'] = frames.shape[-2:]
        results['ori_shape'] = frames.shape[-2:]
        return results


@TRANSFORMS.register_module()
class PackEventInputs(BaseTransform):
    """``results['img']`` (``[T, 2, H, W]`` frames) -> ``inputs`` tensor and
    an mmpretrain ``DataSample`` with the label (none for a recording
    without one, e.g. at inference)."""

    def transform(self, results):
        from mmpretrain.structures import DataSample
        sample = DataSample()
        if 'gt_label' in results:
            sample.set_gt_label(results['gt_label'])
        sample.set_metainfo(dict(img_path=results.get('img_path'),
                                 img_shape=results.get('img_shape')))
        return dict(inputs=torch.from_numpy(results['img']),
                    data_samples=sample)
