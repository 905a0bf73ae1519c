"""The ``spikeformer_mm`` registry scope.

Children of mmengine's root registries, so that a config of mmpretrain,
mmdet or mmsegmentation can say ``type='spikeformer_mm.MetaSpikeFormer'``:
mmengine finds the scope through the root and imports ``locations`` on
demand, with no ``custom_imports`` needed.

Inside this package sub-modules are built in plain Python (or with the
scoped name): a short name would be looked up in the caller's scope.
"""
from typing import Optional

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry


# What is imported on first use, written once: name -> the module that
# defines it. These modules build on a toolbox (mmdet, mmpretrain,
# mmseg), so importing them all whenever one is needed would make every
# detection run import mmpretrain and every classification run mmdet.
# The registries below import exactly the module of a name they do not
# know yet, and the packages' ``__getattr__`` (:func:`lazy_attribute`)
# does the same for ``from spikeformer_mm.models import SpikingClsHead``.
# A new module of that kind is one line here.
ON_DEMAND = {
    # models built on mmdet (the spiking detector)
    'SpikingFPN': 'spikeformer_mm.models.necks.spiking_fpn',
    'SpikingRPNHead': 'spikeformer_mm.models.heads.spiking_rpn_head',
    'SpikingRoIHead': 'spikeformer_mm.models.heads.spiking_roi_head',
    'SpikingShared2FCBBoxHead': 'spikeformer_mm.models.heads.spiking_bbox_head',
    'SpikingFCNMaskHead': 'spikeformer_mm.models.heads.spiking_mask_head',
    # RoIAlign as two matrix products, and mmdet's extractor that takes it
    'SeparableRoIAlign': 'spikeformer_mm.models.heads.roi_extractor',
    'SingleRoIExtractor': 'spikeformer_mm.models.heads.roi_extractor',
    # models built on mmpretrain
    'SpikingClsHead': 'spikeformer_mm.models.heads.spiking_cls_head',
    'DistillImageClassifier': 'spikeformer_mm.models.classifiers.distill',
    'TimmTeacher': 'spikeformer_mm.models.classifiers.distill',
    # datasets, one module per toolbox
    'DigitsClassification': 'spikeformer_mm.datasets.classification',
    'DigitsDetection': 'spikeformer_mm.datasets.detection',
    'DigitsSegmentation': 'spikeformer_mm.datasets.segmentation',
    # Gen1 event detection: the dataset, its window transform and metric
    # (mmdet), and the data preprocessor that keeps the time axis
    'Gen1Detection': 'spikeformer_mm.datasets.gen1',
    'LoadGen1Window': 'spikeformer_mm.datasets.gen1',
    'Gen1CocoMetric': 'spikeformer_mm.datasets.gen1',
    'EventDetDataPreprocessor':
        'spikeformer_mm.models.event_det_preprocessor',
}


def lazy_attribute(package: str, name: str) -> object:
    """``getattr`` of a package of this project for a name of
    :data:`ON_DEMAND` defined in one of its sub-modules (for the package's
    ``__getattr__``); AttributeError otherwise."""
    import importlib
    module = ON_DEMAND.get(name)
    if module is None or not module.startswith(package + '.'):
        raise AttributeError(f'module {package!r} has no attribute {name!r}')
    return getattr(importlib.import_module(module), name)


class ToolboxRegistry(Registry):
    """A registry that imports ``locations`` on first use, as mmengine's
    does, and the module of a name of :data:`ON_DEMAND` when that name is
    looked up and not yet registered."""

    def get(self, key):
        obj = super().get(key)
        name = key.split('.')[-1] if isinstance(key, str) else None
        if obj is None and name in ON_DEMAND:
            import importlib
            importlib.import_module(ON_DEMAND[name])
            obj = super().get(key)
        return obj


def _scope(cls, name: str, parent=None, locations=()) -> Registry:
    """A registry of the ``spikeformer_mm`` scope, child of mmengine's."""
    return cls(name, parent=parent, scope='spikeformer_mm',
               locations=list(locations))


MODELS = _scope(ToolboxRegistry, 'model', MMENGINE_MODELS,
                ['spikeformer_mm.models.backbones',
                 'spikeformer_mm.models.necks'])
# The neurons (``neuron_cfg=dict(type=...)``): a registry of their own, since
# a neuron is built by the layers, never from a config's ``type`` alone.
NEURONS = _scope(Registry, 'neuron', None, ['spikeformer_mm.models.neurons'])
HOOKS = _scope(Registry, 'hook', MMENGINE_HOOKS, ['spikeformer_mm.engine'])
DATASETS = _scope(ToolboxRegistry, 'dataset', MMENGINE_DATASETS)
OPTIM_WRAPPERS = _scope(Registry, 'optim_wrapper', MMENGINE_OPTIM_WRAPPERS,
                        ['spikeformer_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _scope(
    Registry, 'optimizer wrapper constructor',
    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, ['spikeformer_mm.engine'])
TRANSFORMS = _scope(ToolboxRegistry, 'transform', MMENGINE_TRANSFORMS,
                    ['spikeformer_mm.datasets.transforms'])
METRICS = _scope(ToolboxRegistry, 'metric', MMENGINE_METRICS)


def caller_scope() -> Optional[str]:
    """The default scope of the code that is building a ``spikeformer_mm``
    module (``'mmdet'`` in a detection config...), or None.

    While mmengine builds ``spikeformer_mm.X`` it overrides the default scope
    with ``'spikeformer_mm'``; a module that builds a child config written
    in its caller's terms (``dict(type='FPN')``) needs the scope before
    that. mmengine keeps the scopes in creation order and has no public
    accessor for the previous one, hence the class attribute.
    """
    from mmengine.registry import DefaultScope
    for inst in reversed(list(DefaultScope._instance_dict.values())):
        if inst.scope_name != 'spikeformer_mm':
            return inst.scope_name
    return None
