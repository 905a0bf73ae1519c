"""The zoo's other sources, through loopback servers only: Hugging Face Hub
files (``hf://``, ``HF_ENDPOINT`` pointed at a local server) and the
paper's Google Drive folder (``gdrive://``: gdown fetching from a local
URL; the folder listing, which needs Drive's own pages, injected)."""
import hashlib
import http.server
import json
import os.path as osp
import threading

import pytest
import torch
import yaml

from helpers import ROOT

TINY_OFFICIAL = osp.join(ROOT, 'tests', 'data', 'reference',
                         'sdtv2_tiny_seed0_official.pth')


class HubServer:
    """The part of the Hub's protocol that ``hf_hub_download`` uses: HEAD
    and GET of ``/{repo}/resolve/{revision}/{file}`` with the commit and
    the file's sha256 as its ETag (as the Hub serves LFS files)."""

    def __init__(self, files):
        self.files, self.hits = files, []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _serve(self, body):
                srv.hits.append((self.command, self.path))
                key = self.path.split('?')[0]
                data = srv.files.get(key)
                if data is None:
                    self.send_response(404)
                    self.send_header('X-Error-Code', 'EntryNotFound')
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header('X-Repo-Commit', 'c' * 40)
                self.send_header('ETag',
                                 '"' + hashlib.sha256(data).hexdigest() + '"')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_HEAD(self):
                self._serve(False)

            def do_GET(self):
                self._serve(True)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'


def test_hf_source_through_huggingface_hub(tmp_path, run_py):
    data = (tmp_path / 'w.pth')
    torch.save({'state_dict': {'w': torch.ones(3)}}, data)
    body = data.read_bytes()
    hub = HubServer({'/owner/repo/resolve/main/w.pth': body})
    sha = hashlib.sha256(body).hexdigest()
    idx = tmp_path / 'index.yml'
    idx.write_text(yaml.safe_dump({'Models': [
        dict(Name='hub-good', Weights='hf://owner/repo/w.pth', SHA256=sha),
        dict(Name='hub-bad', Weights='hf://owner/repo/w.pth',
             SHA256='0' * 64),
        dict(Name='hub-none', Weights='hf://owner/repo/w.pth')]}))
    env = dict(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / 'hf'),
               HF_HUB_DISABLE_TELEMETRY='1', TORCH_HOME=str(tmp_path / 'th'),
               SPIKEFORMER_OFFLINE='')
    r = run_py('-c', f'''
import torch
from spikeformer_mm.zoo import download_model, resolve_checkpoint
from spikeformer_mm.zoo.download import DownloadError
p = resolve_checkpoint('hf://owner/repo/w.pth')
assert torch.load(p, weights_only=True)['state_dict']['w'].sum() == 3
q = download_model('hub-good', index={str(idx)!r})
assert open(q, 'rb').read() == open(p, 'rb').read()
for name, want in (('hub-bad', 'sha256 mismatch'),
                   ('hub-none', 'no SHA256')):
    try:
        download_model(name, index={str(idx)!r})
    except DownloadError as e:
        assert want in str(e), e
    else:
        raise AssertionError(name)
try:
    resolve_checkpoint('hf://owner/repo/missing.pth')
except DownloadError as e:
    print('missing:', e)
print('cached in', p)
''', env=env)
    assert str(tmp_path / 'hf') in r.stdout  # huggingface_hub's own cache
    assert 'missing: hf://owner/repo/missing.pth' in r.stdout
    gets = [p for m, p in hub.hits if m == 'GET']
    # then cached; 'hub-bad' (whose index sha256 no copy matches) fetches
    # it once more before refusing, as for a corrupted cached copy
    assert gets.count('/owner/repo/resolve/main/w.pth') == 2


def tiny_config(tmp_path, embed_dims=(16, 32, 64, 80)):
    cfg = tmp_path / f'tiny_{embed_dims[-1]}.py'
    base = osp.join(ROOT, 'configs/classification/'
                    'metaspikeformer-15m_8xb64_in1k.py')
    cfg.write_text(f'''_base_ = [{base!r}]
model = dict(backbone=dict(arch=dict(_delete_=True,
                                     embed_dims={list(embed_dims)})),
             head=dict(in_channels={embed_dims[-1]}, num_classes=10,
                       with_kd=True))
''')
    return str(cfg)


def test_paper_weights_from_drive_converted_and_checked(tmp_path,
                                                        http_server, capsys):
    """gdrive://FOLDER/FILE: fetched with gdown (from a loopback URL), the
    first download's sha256 recorded and said to be unverified by the
    publisher, converted with the project's converter, checked against the
    config (every key and shape) and cached; a later download whose sha256
    differs is refused; weights that do not fit the config are not kept."""
    from spikeformer_mm.zoo import download_model
    from spikeformer_mm.zoo.download import DownloadError, cache_dir
    srv = http_server
    srv.files['paper.pth'] = open(TINY_OFFICIAL, 'rb').read()
    src = 'gdrive://FOLDERid_1/paper.pth'
    entry = {'Name': 'tiny-paper', 'Config': tiny_config(tmp_path),
             'Weights': None,
             'Converted From': {'Weights': src, 'Command': 'python tools/'
                                'model_converters/sdtv2_to_mm.py paper.pth '
                                'out.pth'}}
    idx = tmp_path / 'index.yml'
    idx.write_text(yaml.safe_dump({'Models': [entry]}))
    listed = []

    def lister(folder):
        listed.append(folder)
        return [('fileid', 'paper.pth'), ('other', 'other.pth')]

    def fetch_url(file_id):
        return f'{srv.url}/{"paper.pth" if file_id == "fileid" else "x"}'

    kw = dict(index=str(idx), lister=lister, fetch_url=fetch_url)
    path = download_model('tiny-paper', **kw)
    assert listed == ['FOLDERid_1']
    assert path == osp.join(cache_dir(), 'tiny-paper.pth')
    ck = torch.load(path, weights_only=True)
    assert 'backbone.block4.1.mlp.fc2_conv.weight' in ck['state_dict']
    out = capsys.readouterr().out
    assert 'unverified by the publisher' in out
    trusted = json.load(open(osp.join(cache_dir(), 'trusted_sha256.json')))
    assert trusted[src] == hashlib.sha256(srv.files['paper.pth']).hexdigest()
    # cached: no second download
    n = len(srv.hits)
    assert download_model('tiny-paper', **kw) == path and len(srv.hits) == n
    # the publisher's file changes: refused, nothing replaced
    import os
    import shutil
    os.remove(path)
    shutil.rmtree(osp.join(cache_dir(), 'gdrive'))
    sd = torch.load(TINY_OFFICIAL, weights_only=False)
    sd['epoch'] = 5
    torch.save(sd, tmp_path / 'changed.pth')
    srv.files['paper.pth'] = (tmp_path / 'changed.pth').read_bytes()
    with pytest.raises(DownloadError, match='differs from the one recorded'):
        download_model('tiny-paper', **kw)
    assert not osp.exists(path)
    assert not osp.exists(osp.join(cache_dir(), 'gdrive', 'paper.pth'))
    # a config the weights do not fit: refused, no converted file kept
    from spikeformer_mm.zoo.sources import clear_trust
    clear_trust(src)
    entry['Config'] = tiny_config(tmp_path, (16, 32, 64, 96))
    idx.write_text(yaml.safe_dump({'Models': [entry]}))
    from spikeformer_mm.models.layers import IncompleteWeightsError
    with pytest.raises((IncompleteWeightsError, ValueError)):
        download_model('tiny-paper', **kw)
    assert not osp.exists(path)
    # a file the folder does not have is named with what it has
    entry['Converted From']['Weights'] = 'gdrive://FOLDERid_1/nope.pth'
    idx.write_text(yaml.safe_dump({'Models': [entry]}))
    with pytest.raises(DownloadError, match="no 'nope.pth'.*other.pth"):
        download_model('tiny-paper', **kw)
    # a first download that did not convert and fit was never trusted
    # (mutation caught: recording the sha256 at download, before the check)
    assert src not in json.load(open(osp.join(cache_dir(),
                                              'trusted_sha256.json')))


def test_hf_paths_are_verified_everywhere(tmp_path, run_py):
    """``hf://`` in any checkpoint field: mmengine's loader (load_from,
    init_cfg) once the safety policy is imported; the zoo index's sha256
    checked for a direct path it lists; a corrupted cached copy fetched
    again; ``$SPIKEFORMER_OFFLINE`` sends no request."""
    data = tmp_path / 'w.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, data)
    good = data.read_bytes()
    hub = HubServer({'/owner/repo/resolve/main/w.pth': b'x' + good[1:],
                     '/owner/repo/resolve/main/u.pth': good})
    sha = hashlib.sha256(good).hexdigest()
    idx = tmp_path / 'index.yml'
    idx.write_text(yaml.safe_dump({'Models': [
        dict(Name='hub', Weights='hf://owner/repo/w.pth', SHA256=sha)]}))
    env = dict(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / 'hf'),
               HF_HUB_DISABLE_TELEMETRY='1', SPIKEFORMER_OFFLINE='',
               SPIKEFORMER_ZOO_INDEX=str(idx))
    code = '''
import os, sys, torch
import spikeformer_mm.engine.safe_io  # the configs' safety policy
from mmengine.runner.checkpoint import CheckpointLoader
from spikeformer_mm.zoo.download import DownloadError
try:
    ck = CheckpointLoader.load_checkpoint(sys.argv[1])
    print('loaded', float(ck['state_dict']['w'].sum()))
except DownloadError as e:
    print('refused:', str(e).replace(chr(10), ' '))
'''

    def load(url, **extra):
        r = run_py('-c', code, url, env=dict(env, **extra))
        return r.stdout.strip().splitlines()[-1]
    # the hub first serves a corrupted copy, which the index's sha256
    # catches; it is dropped and fetched again
    hub.files['/owner/repo/resolve/main/w.pth'] = b'x' + good[1:]
    assert load('hf://owner/repo/w.pth').startswith('refused: ')
    gets = [p for m, p in hub.hits if m == 'GET']
    assert gets.count('/owner/repo/resolve/main/w.pth') == 2  # fetched again
    hub.files['/owner/repo/resolve/main/w.pth'] = good  # the hub is fixed
    assert load('hf://owner/repo/w.pth') == 'loaded 3.0'
    # a path no index lists: huggingface_hub's revalidation, as a plain URL
    assert load('hf://owner/repo/u.pth') == 'loaded 3.0'
    # offline: served from the cache, no request; an uncached file refused
    n = len(hub.hits)
    assert load('hf://owner/repo/w.pth', SPIKEFORMER_OFFLINE='1') == \
        'loaded 3.0'
    out = load('hf://owner/repo/nope.pth', SPIKEFORMER_OFFLINE='1')
    assert out.startswith('refused: ') and 'SPIKEFORMER_OFFLINE' in out, out
    assert len(hub.hits) == n


def tiny_v3_config(tmp_path):
    cfg = tmp_path / 'tiny_v3.py'
    base = osp.join(ROOT, 'configs/classification/'
                    'e-spikeformer-19m_8xb256_in1k.py')
    cfg.write_text(f'''_base_ = [{base!r}]
model = dict(backbone=dict(arch=dict(_delete_=True,
                                     embed_dims=[16, 32, 64, 80])),
             head=dict(in_channels=80, num_classes=10))
''')
    return str(cfg)


def test_v3_weights_by_file_id_converted_and_checked(tmp_path, http_server,
                                                     capsys):
    """E-SpikeFormer's weights are Drive files shared by their own id
    (gdrive://file/ID/NAME, no folder to list): fetched with gdown (from a
    loopback URL), converted by the entry's Converter (sdtv3, with its
    Max Spike Count) and checked against the config."""
    from spikeformer_mm.zoo import download_model
    from spikeformer_mm.zoo.download import cache_dir
    srv = http_server
    srv.files['19M.pth'] = open(osp.join(
        ROOT, 'tests', 'data', 'reference',
        'sdtv3_base-tiny_seed0_official.pth'), 'rb').read()
    src = 'gdrive://file/fileIdV3_1/19M.pth'
    entry = {'Name': 'tiny-v3', 'Config': tiny_v3_config(tmp_path),
             'Weights': None, 'Metadata': {'Max Spike Count': 4},
             'Converted From': {'Weights': src, 'Converter': 'sdtv3'}}
    idx = tmp_path / 'index.yml'
    idx.write_text(yaml.safe_dump({'Models': [entry]}))

    def lister(folder):
        raise AssertionError('a file shared by its id lists no folder')

    fetched = []

    def fetch_url(file_id):
        fetched.append(file_id)
        return f'{srv.url}/19M.pth'

    path = download_model('tiny-v3', index=str(idx), lister=lister,
                          fetch_url=fetch_url)
    assert fetched == ['fileIdV3_1']
    ck = torch.load(path, weights_only=True)
    assert ck['meta']['family'] == 'ESpikeFormer' and \
        ck['meta']['max_spike_count'] == 4
    assert 'backbone.block3.0.attn.v_conv.0.weight' in ck['state_dict']
    trusted = json.load(open(osp.join(cache_dir(), 'trusted_sha256.json')))
    assert trusted[src] == hashlib.sha256(srv.files['19M.pth']).hexdigest()
    # another converter name is refused, naming the choices
    entry['Converted From']['Converter'] = 'sdtv9'
    idx.write_text(yaml.safe_dump({'Models': [entry]}))
    import os
    os.remove(path)
    with pytest.raises(ValueError, match=r"unknown Converter 'sdtv9'"):
        download_model('tiny-v3', index=str(idx), lister=lister,
                       fetch_url=fetch_url)
