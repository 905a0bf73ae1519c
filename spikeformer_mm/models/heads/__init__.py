"""Heads, each imported on first use: the classification head builds on
mmpretrain, the spiking detection heads on mmdet (see
``spikeformer_mm.registry``)."""
import importlib

_MODULES = {
    'SpikingClsHead': '.spiking_cls_head',
    'SpikingRPNHead': '.spiking_rpn_head',
    'SpikingRoIHead': '.spiking_roi_head',
    'SpikingShared2FCBBoxHead': '.spiking_bbox_head',
    'SpikingFCNMaskHead': '.spiking_mask_head',
}
__all__ = list(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name], __name__),
                       name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
