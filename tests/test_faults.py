"""Fault injection: what a user's mistake, an attacker, a crash or a stuck
peer does to the toolbox. Each test reproduces one class of failure that
once ended in lost files, a silent wrong result or a hang, and checks that
it now ends in a clear error (naming the file, key or argument) or is
survived. Fast; no network beyond loopback."""
import hashlib
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from helpers import ROOT, TINY_ARCH, run_py

CLS = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'


# ------------------------------------------------------------ data loss
def test_foreign_data_root_is_never_deleted(tmp_path):
    from spikeformer_mm.datasets import DigitsClassification
    from spikeformer_mm.datasets.digits import ForeignDirectoryError
    mine = tmp_path / 'my_photos'
    mine.mkdir()
    (mine / 'holiday.jpg').write_bytes(b'precious')
    with pytest.raises(ForeignDirectoryError, match='my_photos'):
        DigitsClassification(data_root=str(mine), split='val')
    assert (mine / 'holiday.jpg').read_bytes() == b'precious'
    # the working directory as data_root, through the converter tool
    r = run_py(osp.join(ROOT, 'tools/dataset_converters/make_digits.py'),
               'classification', '.', cwd=str(mine), check=False,
               env=dict(PYTHONPATH=ROOT))
    assert r.returncode == 1 and 'refusing to replace' in r.stderr
    assert sorted(os.listdir(mine)) == ['holiday.jpg']
    # a malformed manifest (a list) is a foreign directory, not a crash
    (mine / 'MANIFEST.json').write_text('[1, 2]')
    with pytest.raises(ForeignDirectoryError):
        DigitsClassification(data_root=str(mine), split='val')
    assert (mine / 'holiday.jpg').exists()


def test_one_data_root_two_settings_is_refused(tmp_path):
    from spikeformer_mm.datasets import DigitsSegmentation
    root = str(tmp_path / 'seg')
    small = dict(num_train=2, num_val=2)
    DigitsSegmentation(root, split='train', lazy_init=True,
                       canvas=dict(small, size=40, scale=(16, 20)))
    with pytest.raises(ValueError, match='already used in this run'):
        DigitsSegmentation(root, split='val', lazy_init=True,
                           canvas=dict(small, size=48, scale=(16, 20)))


def test_a_users_file_in_a_dataset_folder_is_kept(tmp_path):
    """A rebuild of a folder the toolbox made, which now also holds a file
    of the user's, is refused naming that file; nothing is changed."""
    from spikeformer_mm.datasets.digits import (ForeignDirectoryError,
                                                ensure_dataset)
    root = tmp_path / 'cls'
    ensure_dataset(str(root), 'classification', logger=lambda m: None,
                   size=8)
    (root / 'my_notes.txt').write_text('mine')
    victim = root / 'images' / 'val' / '0001.png'
    victim.write_bytes(b'damaged')  # a rebuild is due
    with pytest.raises(ForeignDirectoryError, match='my_notes.txt'):
        ensure_dataset(str(root), 'classification', logger=lambda m: None,
                       size=8)
    assert (root / 'my_notes.txt').read_text() == 'mine'
    assert victim.read_bytes() == b'damaged'  # nothing replaced


HOLDER = textwrap.dedent('''
    import sys, time
    from spikeformer_mm.datasets.digits import ensure_dataset
    ensure_dataset(sys.argv[1], 'classification', logger=lambda m: None,
                   size=8)
    print('ready', flush=True)
    time.sleep(120)
''')


def test_two_processes_with_other_settings_on_one_folder(tmp_path):
    """A process that uses a data_root with other settings than a live one
    is refused, naming the other process and its settings, and the folder
    stays the other's; once that process is gone, the folder is rebuilt."""
    from spikeformer_mm.datasets.digits import ensure_dataset, verify_dataset
    root = tmp_path / 'cls'
    p = subprocess.Popen([sys.executable, '-c', HOLDER, str(root)], cwd=ROOT,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == 'ready'
        with pytest.raises(ValueError, match=rf"in use by process {p.pid} "
                           r"with other settings \(there: \{'size': 8\}"):
            ensure_dataset(str(root), 'classification',
                           logger=lambda m: None, size=12)
        assert verify_dataset(str(root), 'classification', size=8) is None
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    # the holder died without cleaning up: its claim is stale and dropped
    ensure_dataset(str(root), 'classification', logger=lambda m: None,
                   size=12)
    assert verify_dataset(str(root), 'classification', size=12) is None


# ------------------------------------------------------ torn checkpoints
SAVER = textwrap.dedent('''
    import sys, torch
    from mmengine.config import Config
    from mmengine.runner.checkpoint import save_checkpoint
    Config.fromfile('configs/_base_/safety.py')  # the atomic local backend
    big = {'state_dict': {'w': torch.randn(4_000_000)}}
    print('ready', flush=True)
    while True:
        save_checkpoint(big, sys.argv[1])
''')


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_kill_9_during_checkpoint_saves_never_leaves_a_torn_file(tmp_path):
    """mmengine's checkpoint writer, killed at several points of a save: the
    file under the final name is always whole (the previous one or the new
    one), and no temporary file is mistaken for a checkpoint."""
    from spikeformer_mm.checkpoint import is_complete
    path = str(tmp_path / 'epoch_1.pth')
    for delay in (0.05, 0.13, 0.29, 0.41, 0.77):
        p = subprocess.Popen([sys.executable, '-c', SAVER, path], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == 'ready'
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if osp.exists(path):
            assert is_complete(path), delay
            torch.load(path, weights_only=True)
    assert [f for f in os.listdir(tmp_path) if f.endswith('.pth')] == \
        ['epoch_1.pth']


def test_resume_skips_a_torn_checkpoint(tmp_path):
    from spikeformer_mm.checkpoint import resume_checkpoint
    good, torn = tmp_path / 'epoch_1.pth', tmp_path / 'epoch_2.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}}, good)
    torch.save({'state_dict': {'w': torch.ones(1000)}}, torn)
    data = torn.read_bytes()
    torn.write_bytes(data[:len(data) // 2])  # what kill -9 used to leave
    os.utime(torn, (time.time() + 5, time.time() + 5))
    (tmp_path / 'last_checkpoint').write_text(str(torn))
    msgs = []
    assert resume_checkpoint(str(tmp_path), logger=msgs.append) == str(good)
    assert 'epoch_2.pth' in msgs[0] and 'resuming from' in msgs[0]


# ------------------------------------------------ wrong results, silently
@pytest.mark.e2e  # trains through the tools
def test_nan_loss_stops_every_training_config(tmp_path):
    r = run_py('tools/train.py', CLS, '--work-dir', str(tmp_path / 'wd'),
               '--cfg-options', 'optim_wrapper.optimizer.lr=1e30',
               'train_dataloader.dataset.indices=160',  # NaN at iter 3
               'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False',
               'train_cfg.max_epochs=1', check=False, timeout=300)
    assert r.returncode != 0
    # the weights go non-finite first (their loss still finite), or the loss
    out = r.stdout + r.stderr
    assert 'NaNGuardHook: non-finite weights' in out or \
        'NaNGuardHook: non-finite loss' in out
    assert not (tmp_path / 'wd' / 'epoch_1.pth').exists()


def test_converter_refuses_a_checkpoint_with_a_block_missing(reference_dir):
    from spikeformer_mm.checkpoint import convert_official
    keys = json.load(open(osp.join(reference_dir,
                                   'sdtv2_55M_kd_keys.json')))['keys']
    sd = {k: torch.zeros(s) for k, s in keys.items()
          if not k.startswith('block3.5.')}
    with pytest.raises(ValueError, match=r'incomplete checkpoint.*55M'):
        convert_official({'model': sd})


def test_converter_refuses_a_non_paper_size_with_its_last_block_missing(
        reference_dir, tmp_path):
    """The tiny official checkpoint (not one of the paper's sizes) without
    block3.5: the paper's code always builds 6 + 2 blocks, so it is a file
    with a block missing, not a 5-block architecture."""
    from spikeformer_mm.checkpoint import convert_official, load_official
    ck = load_official(osp.join(reference_dir,
                                'sdtv2_tiny_seed0_official.pth'))
    sd = {k: v for k, v in ck['model'].items()
          if not k.startswith('block3.5.')}
    with pytest.raises(ValueError, match=r'incomplete checkpoint.*\[6, 2\]'
                       r'.*holds \[5, 2\]'):
        convert_official({'model': sd})
    assert convert_official(ck)['meta']['arch']['depths'] == [6, 2]


def test_a_full_disk_is_one_clear_line(tmp_path, monkeypatch):
    """torch's own message for a full disk is "enforce fail at
    inline_container.cc": the writer names the file and the free space,
    and leaves neither the file nor its temporary."""
    from spikeformer_mm.checkpoint import save_checkpoint_file
    from spikeformer_mm.checkpoint.files import CheckpointWriteError

    def full(obj, f):
        with open(f, 'wb') as fh:
            fh.write(b'PK partial')
        raise RuntimeError('[enforce fail at inline_container.cc:672] . '
                           'unexpected pos 64 vs 0')
    monkeypatch.setattr(torch, 'save', full)
    out = tmp_path / 'out.pth'
    with pytest.raises(CheckpointWriteError, match=rf'could not write {out} '
                       r'\(.* MB free there; is the disk full\?\): '
                       r'\[enforce fail'):
        save_checkpoint_file({'state_dict': {}}, out)
    assert os.listdir(tmp_path) == []


def test_a_killed_saves_temporary_file_is_removed_by_the_next_run(tmp_path):
    from spikeformer_mm.apis import configure, load_config
    wd = tmp_path / 'wd'
    wd.mkdir()
    old, fresh = wd / '.tmp-epoch_3.pthab12cd', wd / '.tmp-epoch_4.pthxy'
    old.write_bytes(b'torn')
    fresh.write_bytes(b'being written')
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    cfg = load_config(CLS)
    configure(cfg, work_dir=str(wd))
    assert not old.exists() and fresh.exists()  # a save in progress stays


def test_malformed_zoo_index_names_the_file_and_key(tmp_path):
    from spikeformer_mm.zoo import list_models
    idx = tmp_path / 'index.yml'
    idx.write_text('Models: 5\n')
    with pytest.raises(ValueError, match=rf'{idx}: Models must be a list'):
        list_models(str(idx))
    idx.write_text('Models:\n  - 3\n')
    with pytest.raises(ValueError, match=r'Models\[0\] is not a model'):
        list_models(str(idx))
    idx.write_text('Import: other.yml\n')
    with pytest.raises(ValueError, match='Import must be a list'):
        list_models(str(idx))
    # a Weights that is no text (it was an AttributeError on 'startswith')
    idx.write_text('Models:\n  - Name: m\n    Weights: 123\n')
    with pytest.raises(ValueError, match=rf"{idx}: model 'm': Weights must "
                       r"be a string .*got int 123"):
        list_models(str(idx))


def test_misspelled_cfg_options_key_is_warned_with_the_close_one(
        monkeypatch):
    from spikeformer_mm.apis import config
    said = []
    monkeypatch.setattr(config, '_warn', said.append)
    cfg = config.load_config(CLS, {'train_cfg.max_epoch': 1,
                                   'train_cfg.max_epochs': 2,
                                   'model.backbone.with_cp': True})
    assert cfg.train_cfg.max_epochs == 2
    assert said == [
        "--cfg-options train_cfg.max_epoch: train_cfg has no key "
        "'max_epoch', so it is added as a new key; did you mean "
        "train_cfg.max_epochs?",
        "--cfg-options model.backbone.with_cp: model.backbone has no key "
        "'with_cp', so it is added as a new key"]


class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/spikeformer_pwned',))


def test_converter_never_advises_trusting_a_refused_pickle(tmp_path):
    bad = tmp_path / 'evil.pth'
    torch.save({'model': {}, 'x': Evil()}, bad)
    r = run_py('tools/model_converters/sdtv2_to_mm.py', str(bad),
               str(tmp_path / 'out.pth'), check=False)
    assert r.returncode == 1 and 'refusing to open' in r.stderr
    assert '--trust' not in r.stderr and 'posix.system' in r.stderr
    assert not (tmp_path / 'out.pth').exists()


# ----------------------------------------------------------- the zoo
@pytest.fixture
def server(http_server):
    return http_server.url, http_server


def ckpt_bytes(tmp_path, value):
    p = tmp_path / f'c{value}.pth'
    torch.save({'state_dict': {'w': torch.full((3, ), float(value))}}, p)
    return p.read_bytes()


def test_unhashed_urls_are_cached_per_url_and_revalidated(tmp_path,
                                                          server):
    from spikeformer_mm.zoo.download import download
    base, srv = server
    srv.files['model.pth'] = ckpt_bytes(tmp_path, 1)
    a = download(f'{base}/a/model.pth', progress=False)
    b = download(f'{base}/b/model.pth', progress=False)
    assert a != b  # same name, other URL: another cache entry
    # the file behind a URL changes: the next call fetches it again
    srv.files['model.pth'] = ckpt_bytes(tmp_path, 2)
    a2 = download(f'{base}/a/model.pth', progress=False)
    assert a2 == a
    assert torch.load(a2, weights_only=True)['state_dict']['w'][0] == 2


@pytest.mark.parametrize('server_kind', ['refuses HEAD', 'no validators'])
def test_unhashed_url_is_revalidated_by_its_content(tmp_path, server,
                                                    server_kind):
    """A URL without a hash, whose file changes to another of the same size:
    a server that refuses HEAD (presigned links) or sends no ETag is still
    asked with a GET, and the new content is served, not the stale copy."""
    from spikeformer_mm.zoo.download import download
    base, srv = server
    if server_kind == 'refuses HEAD':
        srv.head_status = 501
    else:
        srv.etag = False
    srv.files['model.pth'] = ckpt_bytes(tmp_path, 1)
    a = download(f'{base}/model.pth', progress=False)
    new = ckpt_bytes(tmp_path, 2)
    assert len(new) == len(srv.files['model.pth'])  # same size
    srv.files['model.pth'] = new
    a2 = download(f'{base}/model.pth', progress=False)
    assert a2 == a
    assert torch.load(a2, weights_only=True)['state_dict']['w'][0] == 2


def test_unchanged_unhashed_url_is_one_conditional_get(tmp_path, server):
    """With an ETag, the check of a cached copy is a conditional GET
    answered 304: the file is not transferred again."""
    from spikeformer_mm.zoo.download import download
    base, srv = server
    srv.head_status = 403  # HEAD is never needed
    srv.files['model.pth'] = ckpt_bytes(tmp_path, 1)
    a = download(f'{base}/model.pth', progress=False)
    n = len(srv.hits)
    assert download(f'{base}/model.pth', progress=False) == a
    assert srv.conditional == ['model.pth'] and len(srv.hits) == n + 1


def test_concurrent_downloads_of_one_file(tmp_path, server):
    base, srv = server
    data = ckpt_bytes(tmp_path, 3)
    srv.files['m-0.pth'] = data
    srv.mode['m-0.pth'] = 'slow'
    sha = hashlib.sha256(data).hexdigest()
    code = (f'from spikeformer_mm.zoo.download import download; '
            f'print(download("{base}/m-0.pth", sha256="{sha}", '
            f'progress=False))')
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, '-c', code], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    paths = {o.strip().splitlines()[-1] for o, _ in outs}
    assert len(paths) == 1
    assert len(srv.hits) == 1  # one fetched it; the others found it


def test_a_stalled_server_hits_the_deadline(tmp_path, server):
    from spikeformer_mm.zoo.download import DownloadError, download
    base, srv = server
    srv.files['slow-0.pth'] = ckpt_bytes(tmp_path, 4)
    srv.mode['slow-0.pth'] = 'trickle'
    t = time.monotonic()
    with pytest.raises(DownloadError, match='deadline'):
        download(f'{base}/slow-0.pth', progress=False, deadline=1.5)
    assert time.monotonic() - t < 10


def test_index_sha256_must_be_complete(tmp_path, server):
    import yaml

    from spikeformer_mm.zoo import download_model
    base, srv = server
    idx = tmp_path / 'index.yml'
    idx.write_text(yaml.safe_dump({'Models': [dict(
        Name='short-hash', Weights=f'{base}/x.pth', SHA256='a')]}))
    with pytest.raises(ValueError, match='64 hex digits'):
        download_model('short-hash', index=str(idx))


# --------------------------------------------------------------- hangs
RANK = textwrap.dedent('''
    import os, sys, time
    from mmengine.config import Config
    from spikeformer_mm import compat
    import torch.distributed as dist
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl',
                                                 timeout=4))))
    compat.setup_cpu_distributed(cfg, 'pytorch')
    print('timeout', cfg.env_cfg.dist_cfg['timeout'], flush=True)
    if os.environ['RANK'] == '1':
        time.sleep(600)  # a rank that is stuck (alive, never joins)
    t = time.monotonic()
    try:
        dist.barrier()
    except Exception as e:
        print('raised', type(e).__name__, 'after', time.monotonic() - t,
              'timed out' if 'timed out' in str(e).lower() or
              'timeout' in str(e).lower() else str(e)[:300], flush=True)
''')


@pytest.mark.skipif(torch.cuda.is_available(),
                    reason='the CPU (gloo) process group is set up only '
                    'without CUDA')
@pytest.mark.e2e  # trains through the tools
def test_a_stopped_rank_does_not_hang_the_others(tmp_path):
    """gloo's default wait is 30 minutes; the config's timeout (4 s here)
    is honoured: the waiting rank gets gloo's timeout error (not any
    exception) within about that time."""
    port = str(29600 + os.getpid() % 300)
    procs = []
    for rank in ('0', '1'):
        env = dict(os.environ, RANK=rank, WORLD_SIZE='2', LOCAL_RANK=rank,
                   MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
        procs.append(subprocess.Popen(
            [sys.executable, '-c', RANK], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        out0, err0 = procs[0].communicate(timeout=120)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert 'timeout 4' in out0, err0[-2000:]
    line = next((ln for ln in out0.splitlines() if ln.startswith('raised')),
                None)
    assert line is not None, (out0, err0[-2000:])
    _, kind, _, seconds, what = line.split(' ', 4)
    assert kind in ('DistBackendError', 'RuntimeError') and \
        what == 'timed out', line
    assert 3.5 <= float(seconds) <= 30, line  # 4 s, not gloo's 30 minutes


# ------------------------------------------------------ cryptic errors
@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_bad_settings_are_named(tmp_path):
    from spikeformer_mm.models import MetaSpikeFormer
    with pytest.raises(ValueError, match='tau must be > 1'):
        MetaSpikeFormer(arch=TINY_ARCH,
                        neuron_cfg=dict(tau=0.5))
    r = run_py('tools/train.py', CLS, '--cfg-options', 'model.backbone.T',
               check=False)
    assert r.returncode == 2 and "needs the form key=value" in r.stderr
    bad = tmp_path / 'broken_cfg.py'
    bad.write_text("_base_ = ['" + osp.join(ROOT, CLS) + "']\nmodel = dict(\n")
    r = run_py('tools/train.py', str(bad), check=False)
    assert r.returncode == 1
    assert f'error: {bad}, line 2: syntax error' in r.stderr
    r = run_py('tools/analysis_tools/benchmark.py', '--batch', '0',
               check=False)
    assert r.returncode == 2 and '--batch must be >= 1' in r.stderr
    r = run_py('tools/analysis_tools/benchmark.py', '--arch', '99M',
               check=False)
    assert r.returncode == 2 and "unknown '99M'" in r.stderr


def test_a_truncated_annotation_file_is_named(tmp_path):
    from mmengine.config import Config

    from spikeformer_mm.apis import configure
    ann = tmp_path / 'instances_val2017.json'
    ann.write_text('{"images": [{"id": 1, "file_name": "a.jpg"}], "annot')
    cfg = Config(dict(
        train_cfg=dict(max_epochs=1),
        val_dataloader=dict(dataset=dict(data_root=str(tmp_path),
                                         ann_file='instances_val2017.json')),
        val_evaluator=dict(type='CocoMetric', ann_file=str(ann))))
    with pytest.raises(ValueError, match='val_dataloader.dataset.ann_file: '
                       f'{ann} is empty or truncated'):
        configure(cfg, work_dir=str(tmp_path / 'wd'))


def test_written_checkpoints_are_readable_by_others(tmp_path):
    from spikeformer_mm.checkpoint import save_checkpoint_file
    out = save_checkpoint_file({'state_dict': {}}, tmp_path / 'pub.pth')
    assert os.stat(out).st_mode & 0o044  # not mkstemp's 0600


# ------------------------------------------------------------ huge inputs
def test_huge_images_are_refused_before_decoding(tmp_path):
    """An 8000 x 8000 PNG (a few hundred kB: it once took the browser demo
    17.7 GB and no answer) is refused by every image reader of the
    toolbox, from its header, naming the file and the limit; a large image
    under the limit is drawn at a bounded size (vis_spikes.py on 4000 x
    4000 once ran for minutes)."""
    import numpy as np
    from PIL import Image

    from spikeformer_mm.apis.data import file_batch
    from spikeformer_mm.apis.inference import init_model
    from spikeformer_mm.visualization import (MAX_DISPLAY_SIDE, read_image,
                                              spike_pictures)
    big = tmp_path / 'big.png'
    Image.new('RGB', (8000, 8000)).save(big)
    cfg = init_model(osp.join(ROOT, CLS)).cfg
    t = time.monotonic()
    for read in (read_image, lambda p: file_batch(cfg, p)):
        with pytest.raises(ValueError, match=r'big\.png: 8000 x 8000 pixels '
                                             r'\(64\.0 MP\), above the 16\.8 MP'):
            read(str(big))
    assert time.monotonic() - t < 5
    spikes = {0: (torch.rand(2, 1, 4, 8, 8) > 0.5).float()}
    image = np.zeros((3000, 2000, 3), np.uint8)
    pics = spike_pictures(spikes, image, channels=1)
    assert max(max(p.shape[:2]) for name, p in pics.items()
               if name != 'overview') <= MAX_DISPLAY_SIDE


def test_a_full_disk_during_training_names_the_file(tmp_path, monkeypatch):
    """What mmengine writes through its file backend (checkpoints during
    training, last_checkpoint, log dumps): a full disk's OSError, which
    names no file, becomes one naming the file and the space left; the
    previous file is kept."""
    import errno

    import spikeformer_mm.engine.safe_io  # noqa: F401  (the backend)
    from mmengine import fileio

    from spikeformer_mm.checkpoint.files import CheckpointWriteError
    target = tmp_path / 'epoch_2.pth'
    target.write_bytes(b'the previous file')
    real_open = open

    def full(path, mode='r', *a, **k):
        f = real_open(path, mode, *a, **k)
        if 'w' in mode and '.tmp-' in str(path):
            def write(data):
                raise OSError(errno.ENOSPC, 'No space left on device')
            f.write = write
        return f
    monkeypatch.setattr('builtins.open', full)
    with pytest.raises(CheckpointWriteError,
                       match=rf'could not write {target} \(.* MB free there; '
                             r'is the disk full\?\): \[Errno 28\]'):
        fileio.put(b'new checkpoint', str(target))
    monkeypatch.undo()
    assert target.read_bytes() == b'the previous file'
    assert sorted(os.listdir(tmp_path)) == ['epoch_2.pth']


def test_misspelled_key_warning_knows_dataset_arguments():
    """--cfg-options keys that set an argument every mm dataset takes
    (indices, the smoke runs' own) are not reported as misspellings; a
    misspelled one still is, with the closest key."""
    from spikeformer_mm.apis.config import load_config, new_keys
    cfg = load_config(osp.join(ROOT, CLS))
    said = new_keys(cfg, {'test_dataloader.dataset.indices': 4,
                          'test_dataloader.dataset.serialize_data': False,
                          'test_dataloader.dataset.data_rot': 'x'})
    assert len(said) == 1 and "has no key 'data_rot'" in said[0] and \
        'did you mean test_dataloader.dataset.data_root?' in said[0], said


@pytest.mark.e2e  # runs the tool in a subprocess
def test_energy_assume_rate_is_checked_first(tmp_path):
    t = time.monotonic()
    r = run_py('tools/analysis_tools/energy.py', CLS, '--assume-rate', '0.2',
               '1.5', check=False)
    assert r.returncode == 1 and r.stderr.strip().endswith(
        'error: --assume-rate: a rate is in [0, 1], got [1.5]'), r.stderr
    assert time.monotonic() - t < 30  # no measurement ran first
