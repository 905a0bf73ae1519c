"""The toolchain repairs of spikeformer_mm.compat (what today's stack
breaks)."""
import textwrap


import spikeformer_mm  # noqa: F401  (applies the repairs)
from helpers import run_py
from spikeformer_mm import compat


def test_package_helpers_agree_with_pkg_resources():
    from mmengine.utils import package_utils as pu
    for pkg in ('mmdet', 'mmsegmentation', 'mmpretrain', 'mmcv'):
        assert compat.is_installed(pkg)
        assert compat.get_installed_path(pkg) == pu.get_installed_path(pkg)
    assert not compat.is_installed('surely-not-a-package-xyz')


def test_mm_base_configs_without_pkg_resources(tmp_path):
    """setuptools >= 82 has no pkg_resources: the shim makes mmdet::,
    mmseg:: and mmpretrain:: bases work all the same."""
    bases = {'det': 'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
             'seg': 'mmseg::_base_/models/fpn_r50.py',
             'cls': 'mmpretrain::_base_/models/resnet18.py'}
    for k, base in bases.items():
        (tmp_path / f'{k}.py').write_text(f'_base_ = [{base!r}]\n')
    script = tmp_path / 'probe.py'
    script.write_text(textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == 'pkg_resources' or name.startswith('pkg_resources.'):
                    raise ImportError('pkg_resources removed (setuptools>=82)')
        sys.meta_path.insert(0, Block())
        sys.modules.pop('pkg_resources', None)
        import spikeformer_mm
        from mmengine.config import Config
        for k in ('det', 'seg', 'cls'):
            cfg = Config.fromfile(f'{tmp_path}/{{k}}.py')
            print(cfg.model.type, cfg.model.backbone.type)
    """))
    r = run_py(str(script))
    assert r.stdout.split() == ['MaskRCNN', 'ResNet', 'EncoderDecoder',
                                'ResNetV1c', 'ImageClassifier', 'ResNet']
