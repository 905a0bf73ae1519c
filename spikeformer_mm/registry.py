"""The ``spikeformer_mm`` registry scope.

Children of mmengine's root registries, so that a config of mmpretrain,
mmdet or mmsegmentation can say ``type='spikeformer_mm.MetaSpikeFormer'``:
mmengine finds the scope through the root and imports ``locations`` on
demand, with no ``custom_imports`` needed.

Inside this package sub-modules are built in plain Python (or with the
scoped name): a short name would be looked up in the caller's scope.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
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

DATASETS = Registry(
    'dataset',
    parent=MMENGINE_DATASETS,
    scope='spikeformer_mm',
    # one module per toolbox, so each imports only what it needs
    locations=[
        'spikeformer_mm.datasets.classification',
        'spikeformer_mm.datasets.detection',
        'spikeformer_mm.datasets.segmentation',
    ])

OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='spikeformer_mm',
    locations=['spikeformer_mm.engine'])

TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    scope='spikeformer_mm',
    locations=['spikeformer_mm.datasets.transforms'])
