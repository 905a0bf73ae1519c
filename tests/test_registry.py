import os.path as osp
import textwrap

from helpers import ROOT, run_py


def test_import_does_not_pull_dense_toolboxes():
    r = run_py('-c', textwrap.dedent("""
        import sys, spikeformer_mm
        bad = [m for m in ('mmdet', 'mmseg') if m in sys.modules]
        print('BAD', bad)
    """))
    assert r.stdout.strip().endswith('BAD []')


def test_scoped_type_builds_from_other_toolboxes_without_import():
    r = run_py('-c', textwrap.dedent("""
        from mmdet.registry import MODELS as DET
        from mmseg.registry import MODELS as SEG
        from mmpretrain.registry import MODELS as CLS
        arch = dict(embed_dims=[16, 32, 64, 80])
        for reg in (DET, SEG, CLS):
            m = reg.build(dict(type='spikeformer_mm.MetaSpikeFormer', arch=arch))
            print(type(m).__name__, type(m).__module__)
        h = CLS.build(dict(type='spikeformer_mm.SpikingClsHead',
                           num_classes=3, in_channels=80))
        n = DET.build(dict(type='spikeformer_mm.SpikeToDense'))
        print(type(h).__name__, type(n).__name__)
    """))
    lines = r.stdout.strip().splitlines()
    assert lines[:3] == ['MetaSpikeFormer spikeformer_mm.models.backbones.'
                         'meta_spikeformer'] * 3
    assert lines[3] == 'SpikingClsHead SpikeToDense'


def test_dense_configs_never_import_mmpretrain():
    """Detection and segmentation models built from their configs (backbone,
    the neck that wraps mmdet's/mmseg's FPN, the spiking detector's neck
    and heads) import none of this project's mmpretrain-based modules
    (head, distiller); a classification config
    still finds the head on demand. (mmpretrain itself is imported by the
    toolboxes when installed: mmseg imports mmdet, whose ReID models import
    mmpretrain.)"""
    r = run_py('-c', textwrap.dedent("""
        import sys
        from mmengine.config import Config
        from mmengine.registry import MODELS, init_default_scope
        ours = ('spikeformer_mm.models.heads.spiking_cls_head',
                'spikeformer_mm.models.classifiers')
        for path in ('configs/segmentation/fpn_metaspikeformer-demo_digits-64x64-t2.py',
                     'configs/detection/mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py'):
            cfg = Config.fromfile(path)
            init_default_scope(cfg.default_scope)
            model = MODELS.build(cfg.model)
            print(type(model.neck.neck).__module__.split('.')[0],
                  any(m in sys.modules for m in ours))
        # the spiking detector's neck and heads (mmdet-based, on demand)
        cfg = Config.fromfile(
            'configs/detection/mask-rcnn_metaspikeformer-demo_spikefpn_digits-t2.py')
        model = MODELS.build(cfg.model)
        print(type(model.roi_head).__name__,
              any(m in sys.modules for m in ours))
        cfg = Config.fromfile(
            'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py')
        init_default_scope(cfg.default_scope)
        print(type(MODELS.build(cfg.model).head).__name__)
    """))
    assert r.stdout.split() == ['mmseg', 'False', 'mmdet', 'False',
                                'SpikingRoIHead', 'False',
                                'SpikingClsHead'], r.stdout + r.stderr


# docs/architecture.md: the layers, bottom up (a module imports only from
# its own layer or lower ones)
LAYERS = [
    ('version', 'fileio', 'compat', 'registry', 'validation', 'tasks'),
    ('models', ),
    ('checkpoint', ),
    ('deploy', ),
    ('datasets', ),
    ('zoo', ),
    ('analysis', 'visualization'),
    ('engine', ),
    ('apis', ),
    ('cli', ),
]


def _package_imports():
    """{module: [(imported module, line, at module level)]} for every
    module of the package, relative imports resolved."""
    import ast
    import glob
    pkg = osp.join(ROOT, 'spikeformer_mm')
    out = {}
    for path in glob.glob(osp.join(pkg, '**', '*.py'), recursive=True):
        rel = osp.relpath(path, ROOT)[:-3].replace(osp.sep, '.')
        name = rel[:-len('.__init__')] if rel.endswith('__init__') else rel
        package = name if path.endswith('__init__.py') else \
            name.rsplit('.', 1)[0]
        tree = ast.parse(open(path).read())
        top = set(map(id, tree.body))
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split('.')
                    base = base[:len(base) - node.level + 1]
                    mod = '.'.join(base + ([node.module] if node.module
                                           else []))
                else:
                    mod = node.module or ''
                targets = [mod] + [f'{mod}.{a.name}' for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                if t.startswith('spikeformer_mm.') or t == 'spikeformer_mm':
                    found.append((t, node.lineno, id(node) in top))
        out[name] = found
    return out


def _layer(module):
    parts = module.split('.')
    if len(parts) < 2:
        return 0  # the package itself: it imports layer 1 only
    for i, names in enumerate(LAYERS):
        if parts[1] in names:
            return i
    raise AssertionError(f'{module}: not in docs/architecture.md\'s layers')


def test_no_import_reaches_up():
    """Every import in the package (at module level or inside a function)
    goes to the importing module's layer or a lower one."""
    bad = []
    for mod, imports in _package_imports().items():
        for target, line, _ in imports:
            t = '.'.join(target.split('.')[:2])
            if _layer(t) > _layer(mod):
                bad.append(f'{mod}:{line} imports {target}')
    assert not bad, bad


def test_no_import_circles():
    """The module-level imports of the package form no cycle."""
    imports = _package_imports()
    mods = set(imports)

    def owner(target):  # the module a dotted name lives in
        while target not in mods and '.' in target:
            target = target.rsplit('.', 1)[0]
        return target if target in mods else None
    graph = {m: {owner(t) for t, _, top in imports[m] if top} - {None, m}
             for m in mods}
    # a package's __init__ importing its own sub-modules is how packages
    # work, not a cycle: drop edges from a module to its parent packages
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + '.')}
    state, cycles = {}, []

    def visit(m, path):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                cycles.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles
