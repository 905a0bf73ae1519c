"""The zoo's classifiers in mmpretrain's model registry (``mmpretrain.get_model``)."""
import os.path as osp


from .index import _models_of, config_root


def register_mmpretrain_models() -> None:
    """Make the zoo's classification models known to mmpretrain's ModelHub
    (``mmpretrain.get_model(NAME, pretrained=True)``)."""
    from mmpretrain.apis import ModelHub
    root = config_root()
    path = osp.join(osp.dirname(__file__), 'metafiles', 'classification.yml')
    for name in [m.name for m in _models_of(path)]:
        if ModelHub.has(name.lower()):
            return
    ModelHub.register_model_index(path, config_prefix=root)
