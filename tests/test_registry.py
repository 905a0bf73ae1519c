import textwrap

from conftest import run_py


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
