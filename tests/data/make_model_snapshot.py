"""Write the state_dict keys and shapes of every shipped config's model
(``tests/data/model_snapshot.json.gz``), for ``tests/test_configs``: a
refactoring must build the same models. Run from the repository root, on
the code whose models are the reference:

    python tests/data/make_model_snapshot.py [OUT]

It was made on the code before the layout change of issue 23 (bb549c1) and
is to be remade only when a config's model is meant to change. The I-LIF
configs (``*-ilif-*``) were added later with their binary twins' entries:
an I-LIF neuron has no tensors, so the twin's model is theirs
(tests/test_configs.py checks that the neuron is all they change). The
E-SpikeFormer configs (``*e-spikeformer*``) were added with models of their
own, their entries made by :func:`state_dict_shapes` when they came (the
fidelity tests check those models against V3's code); so were the event
detection configs (``*gen1*``, ``*moving-digits*``, 2026-12-06) and the
event classification configs (``*dvs-gesture*``, ``*cifar10-dvs*``,
2026-12-06, later).
"""
import glob
import gzip
import json
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

# as tests/test_configs.py: a small stand-in for the distillation teacher
SMALL_TEACHER = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=512))


def config_paths():
    """Every config a user runs (``configs/<task>/``, the projects'), not
    the ``_base_`` files."""
    return sorted(osp.relpath(p, ROOT) for p in
                  glob.glob(osp.join(ROOT, 'configs', '*', '*.py')) +
                  glob.glob(osp.join(ROOT, 'projects', '*', 'configs',
                                     '*.py'))
                  if '_base_' not in p.split(osp.sep))


def state_dict_shapes(path):
    """{key: shape} of the model of config ``path`` (a stand-in teacher),
    built as every tool builds it (``init_model``, no weights)."""
    import spikeformer_mm  # noqa: F401
    from mmengine.config import Config
    from spikeformer_mm.apis import init_model
    cfg = Config.fromfile(osp.join(ROOT, path))
    if cfg.model.get('teacher') is not None:
        cfg.model.teacher = SMALL_TEACHER
    model = init_model(cfg)
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else osp.join(
        ROOT, 'tests', 'data', 'model_snapshot.json.gz')
    snap = {p: state_dict_shapes(p) for p in config_paths()}
    with gzip.open(out, 'wt') as f:
        json.dump(snap, f, sort_keys=True)
    print(f'{len(snap)} configs -> {out}')


if __name__ == '__main__':
    main()
