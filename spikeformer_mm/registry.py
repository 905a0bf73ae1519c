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


class ToolboxRegistry(Registry):
    """A registry that imports its modules in two groups: ``locations`` on
    first use, as mmengine does, and ``on_demand`` (modules that import a
    toolbox, e.g. mmpretrain), one at a time in order, only while a name
    is not found.

    mmengine imports every location of a scope at once, so one location
    that imports mmpretrain would make every mmdet and mmseg run import it
    too."""

    def __init__(self, *args, on_demand=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._on_demand = list(on_demand)

    def get(self, key):
        obj = super().get(key)
        # import the on-demand modules one by one, until the name is found
        while obj is None and self._on_demand:
            import importlib
            importlib.import_module(self._on_demand.pop(0))
            obj = super().get(key)
        return obj


MODELS = ToolboxRegistry(
    'model',
    parent=MMENGINE_MODELS,
    scope='spikeformer_mm',
    locations=['spikeformer_mm.models.backbones',
               'spikeformer_mm.models.necks'],
    # build on mmdet (the spiking detector), then on mmpretrain
    on_demand=['spikeformer_mm.models.necks.spiking_fpn',
               'spikeformer_mm.models.heads.spiking_rpn_head',
               'spikeformer_mm.models.heads.spiking_roi_head',
               'spikeformer_mm.models.heads.spiking_bbox_head',
               'spikeformer_mm.models.heads.spiking_mask_head',
               'spikeformer_mm.models.heads.spiking_cls_head',
               'spikeformer_mm.models.classifiers'])

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


def caller_scope():
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
