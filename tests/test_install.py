"""A regular (non-editable) install finds everything the zoo names: the
configs ship inside the package (spikeformer_mm/.mim/configs); configs are
found by name (spikeformer_mm.apis.get_config) from a wheel and from the
editable install, outside the checkout."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT

pytestmark = pytest.mark.e2e


def tracked_copy(dst):
    """The repository as a user's clone holds it (git's tracked files)."""
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'],
                           cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for f in files:
        if osp.isfile(osp.join(ROOT, f)):
            os.makedirs(osp.join(dst, osp.dirname(f)), exist_ok=True)
            shutil.copy2(osp.join(ROOT, f), osp.join(dst, f))
    return dst


def test_regular_install_resolves_zoo_configs(tmp_path):
    src = tracked_copy(str(tmp_path / 'src'))
    target = str(tmp_path / 'site')
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--target', target, src],
                   check=True, capture_output=True, text=True, timeout=600)
    assert osp.isfile(osp.join(
        target, 'spikeformer_mm', '.mim', 'configs', 'classification',
        'metaspikeformer-demo_1xb32_digits-t2.py'))
    env = dict(os.environ, PYTHONPATH=target)
    run = dict(cwd=str(tmp_path), env=env, capture_output=True, text=True,
               timeout=300)
    r = subprocess.run([sys.executable, '-m', 'spikeformer_mm.zoo', 'list'],
                       **run)
    assert r.returncode == 0, r.stderr
    rows = [ln for ln in r.stdout.splitlines()[1:] if ln.strip()]
    assert len(rows) >= 5
    assert 'missing' not in r.stdout
    assert all(osp.join(target, 'spikeformer_mm', '.mim', 'configs') in ln
               for ln in rows), r.stdout
    r = subprocess.run([sys.executable, '-c', '''
import spikeformer_mm, mmpretrain
from spikeformer_mm.zoo import register_mmpretrain_models
print('PKG', spikeformer_mm.__file__)
from spikeformer_mm.apis import config_path, get_config
print('CFG', config_path('classification/e-spikeformer-demo_1xb32_digits-t1'))
print('TYPE', get_config('detection/mask-rcnn_e-spikeformer-19m_fpn_1x_coco'
                         '-t1.py').model.backbone.type)
register_mmpretrain_models()
m = mmpretrain.get_model('metaspikeformer-demo_digits-t2')
print('MODEL', type(m.backbone).__name__, m.backbone.T)
'''], **run)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'PKG {target}' in r.stdout
    assert 'MODEL MetaSpikeFormer 2' in r.stdout
    assert f'CFG {target}/spikeformer_mm/.mim/configs/classification/' \
        'e-spikeformer-demo_1xb32_digits-t1.py' in r.stdout
    assert 'TYPE spikeformer_mm.ESpikeFormer' in r.stdout


def test_editable_install_finds_configs_by_name(tmp_path, monkeypatch):
    """The editable install of `make setup` links spikeformer_mm/.mim/configs
    to the checkout's configs/ (as mmdet does); a config is found by name
    from any folder, through the API and where the tools take a config."""
    import spikeformer_mm
    from spikeformer_mm.apis import config_path, load_config
    from spikeformer_mm.cli import require_files
    link = osp.join(osp.dirname(spikeformer_mm.__file__), '.mim', 'configs')
    assert osp.islink(link) and osp.samefile(link, osp.join(ROOT, 'configs'))
    monkeypatch.chdir(tmp_path)
    name = 'segmentation/fpn_e-spikeformer-83m_4xb4-160k_ade20k-512x512-t1'
    assert config_path(name) == osp.join(ROOT, 'configs', name + '.py')
    require_files(config=name)
    assert load_config(name).model.backbone.arch == '83M'
    with pytest.raises(FileNotFoundError, match=r'config file not found: '
                                                r'segmentation/fpn_nope.*'):
        load_config('segmentation/fpn_nope.py')
