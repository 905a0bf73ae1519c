"""Data transforms of spikeformer_mm."""
import numpy as np
from mmcv.transforms import BaseTransform

from ..registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckSegSample(BaseTransform):
    """Check a loaded segmentation sample; raise naming its files if bad.

    Put it right after ``LoadAnnotations`` (without labels, at inference,
    it does nothing). It refuses label maps whose size differs from the
    image's (its loaded size, or its size before a ``Resize`` that came
    first: mmseg's test pipelines resize the image only) and labels outside
    ``[0, num_classes)`` other than ``ignore_index`` (mmseg would otherwise
    train on them silently, score them silently, or fail deep inside the
    loss).

    Args:
        num_classes (int, optional): number of classes; without it only the
            sizes are checked.
        ignore_index (int): the label that is ignored. Defaults to 255.
    """

    def __init__(self, num_classes=None, ignore_index=255):
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results):
        img, seg = results.get('img'), results.get('gt_seg_map')
        name = results.get('seg_map_path', '<label map>')
        if seg is None:  # inference: no labels to check
            return results
        sizes = {tuple(img.shape[:2])} if img is not None else set()
        if results.get('ori_shape') is not None:
            sizes.add(tuple(results['ori_shape'][:2]))
        if sizes and tuple(seg.shape[:2]) not in sizes:
            raise ValueError(
                f'{name}: label map is {seg.shape[1]}x{seg.shape[0]} but its '
                f'image {results.get("img_path")} is '
                f'{img.shape[1]}x{img.shape[0]}')
        n = self.num_classes
        if n is not None:
            vals = np.unique(seg)
            bad = [int(v) for v in vals
                   if not (0 <= v < n or v == self.ignore_index)]
            if bad:
                raise ValueError(
                    f'{name}: labels {bad} are outside the {n} classes '
                    f'(0..{n - 1}) and not the ignore index '
                    f'{self.ignore_index}')
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
