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
