"""The zoo against an HTTP server on loopback."""
import os
import os.path as osp

import pytest
import torch
import yaml

from helpers import ROOT, run_py
from spikeformer_mm.zoo import (DownloadError, download_model, get_model_info,
                                list_models)


@pytest.fixture
def server(http_server):
    return http_server.root, http_server.url, http_server


def publish(tmp_path, root, stem='tiny-demo'):
    src = tmp_path / 'raw.pth'
    torch.save({'state_dict': {'w': torch.arange(6.).view(2, 3)},
                'meta': {'epoch': 3, 'note': 'x'}, 'optimizer': {}}, src)
    r = run_py('tools/model_converters/publish_model.py', str(src),
               str(root / f'{stem}.pth'))
    path, sha = r.stdout.split()[0], r.stdout.split()[-1]
    return path, sha


def write_index(tmp_path, models):
    idx = tmp_path / 'my-index.yml'
    idx.write_text(yaml.safe_dump({'Models': models}))
    return str(idx)


def cached(cache):
    """Files in the cache (its hidden .locks folder aside)."""
    return [f for f in os.listdir(cache) if not f.startswith('.')] \
        if cache.exists() else []


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


def test_publish_names_and_content(tmp_path, server):
    root, _, _ = server
    path, sha = publish(tmp_path, root)
    name = osp.basename(path)
    assert name.startswith('tiny-demo_') and name.endswith(f'-{sha[:8]}.pth')
    ck = torch.load(path, weights_only=True)
    assert set(ck) == {'state_dict', 'meta'} and ck['meta']['epoch'] == 3
    assert not [f for f in os.listdir(root) if f.startswith('.')]


def test_good_download_then_offline_cache(tmp_path, server, cache):
    root, base, h = server
    path, sha = publish(tmp_path, root)
    idx = write_index(tmp_path, [dict(Name='tiny', Weights=f'{base}/'
                                      f'{osp.basename(path)}')])
    got = download_model('tiny', index=idx, progress=False)
    assert osp.dirname(got) == str(cache)
    assert torch.load(got, weights_only=True)['meta']['epoch'] == 3
    os.remove(path)  # the server loses the file: the cache still serves
    assert download_model('tiny', index=idx, progress=False) == got
    assert len(h.hits) == 1


def test_wrong_hash_refused_nothing_cached(tmp_path, server, cache):
    root, base, _ = server
    path, sha = publish(tmp_path, root)
    idx = write_index(tmp_path, [dict(Name='tiny', Weights=f'{base}/'
                                      f'{osp.basename(path)}',
                                      Metadata=dict(SHA256='0' * 64))])
    with pytest.raises(DownloadError, match='sha256 mismatch'):
        download_model('tiny', index=idx, progress=False)
    assert not cached(cache)
    # tampered file, hash from the name
    with open(path, 'r+b') as f:
        f.seek(-5, 2)
        f.write(b'XXXXX')
    idx = write_index(tmp_path, [dict(Name='tiny', Weights=f'{base}/'
                                      f'{osp.basename(path)}')])
    with pytest.raises(DownloadError, match='tampered'):
        download_model('tiny', index=idx, progress=False)
    assert not cached(cache)


def test_truncated_transfer_resumes(tmp_path, server, cache):
    root, base, h = server
    path, _ = publish(tmp_path, root)
    name = osp.basename(path)
    h.mode[name] = 'truncate'
    idx = write_index(tmp_path, [dict(Name='tiny', Weights=f'{base}/{name}')])
    got = download_model('tiny', index=idx, progress=False)
    assert torch.load(got, weights_only=True)['state_dict']['w'].shape == (2, 3)
    assert any(r is not None for _, r in h.hits)  # a Range request resumed


def test_http_errors_are_clear(tmp_path, server, cache):
    root, base, h = server
    h.mode['boom_20260101-deadbeef.pth'] = 500
    idx = write_index(tmp_path, [
        dict(Name='missing', Weights=f'{base}/gone_20260101-deadbeef.pth'),
        dict(Name='broken', Weights=f'{base}/boom_20260101-deadbeef.pth')])
    with pytest.raises(DownloadError, match='404'):
        download_model('missing', index=idx, progress=False)
    with pytest.raises(DownloadError, match='500'):
        download_model('broken', index=idx, progress=False)
    assert not cache.exists() or not [f for f in os.listdir(cache)
                                      if f.endswith('.pth')]
    with pytest.raises(KeyError, match='no model'):
        get_model_info('nope', index=idx)


class Evil:

    def __reduce__(self):
        return (os.system, ('echo owned',))


def test_malicious_pickle_refused(tmp_path, server, cache):
    import hashlib
    root, base, _ = server
    tmp = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Evil()}, tmp)
    sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
    name = f'evil_20260101-{sha[:8]}.pth'
    (root / name).write_bytes(tmp.read_bytes())
    idx = write_index(tmp_path, [dict(Name='evil', Weights=f'{base}/{name}')])
    with pytest.raises(DownloadError, match='refused'):
        download_model('evil', index=idx, progress=False)
    assert not cached(cache)


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_cli_mirror_and_config_scheme(tmp_path, server, cache):
    root, base, _ = server
    path, _ = publish(tmp_path, root)
    name = osp.basename(path)
    idx = write_index(tmp_path, [dict(
        Name='tiny', Weights=f'https://zoo.example.invalid/{name}')])
    env = dict(SPIKEFORMER_ZOO_MIRROR=base, TORCH_HOME=str(tmp_path / 'th'))
    r = run_py('-m', 'spikeformer_mm.zoo', 'list', '--index', idx, env=env)
    assert 'tiny' in r.stdout and 'metaspikeformer-55m-kd_in1k-t4' in r.stdout
    r = run_py('-m', 'spikeformer_mm.zoo', 'download', 'tiny', '--index',
               idx, '--dest', str(tmp_path / 'dl'), env=env)
    assert r.stdout.strip().endswith(name)
    r = run_py('-m', 'spikeformer_mm.zoo', 'download',
               'metaspikeformer-55m-kd_in1k-t4',
               env=dict(env, SPIKEFORMER_OFFLINE='1'), check=False)
    assert r.returncode != 0 and 'sdtv2_to_mm.py' in r.stderr
    assert 'no Drive access' in r.stderr
    # zoo://NAME in a config's checkpoint field
    r = run_py('-c', '''
from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader
Config.fromfile('configs/_base_/safety.py')  # what every config inherits
ck = CheckpointLoader.load_checkpoint('zoo://tiny')
print(sorted(ck['state_dict']))
''', env=dict(env, SPIKEFORMER_ZOO_INDEX=idx))
    assert "['w']" in r.stdout


def test_package_index_is_valid():
    models = list_models()
    assert 'metaspikeformer-55m-kd_in1k-t1' in models
    for m in models.values():
        assert osp.isfile(osp.join(ROOT, m['Config'])), m['Config']


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_mmpretrain_get_model_by_zoo_name():
    r = run_py('-c', '''
import spikeformer_mm
from spikeformer_mm.zoo import register_mmpretrain_models
register_mmpretrain_models()
register_mmpretrain_models()  # idempotent
import mmpretrain
m = mmpretrain.get_model('metaspikeformer-demo_digits-t2')
print(type(m).__name__, type(m.backbone).__name__, m.backbone.T)
''')
    assert r.stdout.split()[-3:] == ['ImageClassifier', 'MetaSpikeFormer', '2']
