"""The ``spikeformer_mm`` registry scope.

Children of mmengine's root registries, so that a config of mmpretrain,
mmdet or mmsegmentation can say ``type='spikeformer_mm.MetaSpikeFormer'``:
mmengine finds the scope through the root and imports ``locations`` on
demand, with no ``custom_imports`` needed.

Inside this package sub-modules are built in plain Python (or with the
scoped name): a short name would be looked up in the caller's scope.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    scope='spikeformer_mm',
    locations=['spikeformer_mm.models'])

HOOKS = Registry(
    'hook',
    parent=MMENGINE_HOOKS,
    scope='spikeformer_mm',
    locations=['spikeformer_mm.engine'])
