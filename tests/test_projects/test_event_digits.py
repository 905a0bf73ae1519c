"""The event-camera project (projects/event_digits): the DVS emulator, the
N-MNIST format, the dataset's errors, frames and the time axis."""
import os
import os.path as osp
import statistics

import numpy as np
import pytest
import torch

# tonic is installed by make setup (requirements/events.txt): a missing one
# is a broken install, so these tests fail on it instead of skipping
import tonic  # noqa: E402,F401

from projects.event_digits.event_digits import (  # noqa: E402
    EVENT_DTYPE, EventDataPreprocessor, EventsToFrames, emulate, read_events,
    write_bin)
from sklearn.datasets import load_digits  # noqa: E402


@pytest.fixture(scope='module')
def scan():
    return load_digits().images[3]


def test_emulator_events(scan):
    ev = emulate(scan, seed=0)
    assert ev.dtype == EVENT_DTYPE and len(ev) > 500
    assert (np.diff(ev['t']) >= 0).all()  # sorted
    assert ev['t'].min() >= 0 and ev['t'].max() < 300_000
    assert ev['x'].max() < 34 and ev['y'].max() < 34
    on = ev['p'].mean()
    assert 0.3 < on < 0.7, on  # the saccades return: ON and OFF balance
    # seeded and deterministic
    assert np.array_equal(ev, emulate(scan, seed=0))
    assert not np.array_equal(ev, emulate(scan, seed=1))
    # a blank image makes only background noise: ~0.5 Hz x 34^2 x 0.3 s
    blank = emulate(scan, seed=0, image=np.zeros((28, 28)))
    assert 100 < len(blank) < 300
    quiet = emulate(scan, seed=0, image=np.zeros((28, 28)), noise_hz=0)
    assert len(quiet) == 0


def test_nmnist_round_trip(tmp_path):
    ev = np.zeros(4, EVENT_DTYPE)
    ev['x'] = [0, 33, 5, 17]
    ev['y'] = [1, 2, 33, 0]
    ev['t'] = [0, 70_000, 131_071, 8_388_607]  # up to 2^23 - 1 us
    ev['p'] = [True, False, True, False]
    path = str(tmp_path / '00001.bin')
    write_bin(path, ev)
    assert osp.getsize(path) == 20  # 40 bits per event
    back = read_events(path)
    for f in 'xytp':
        assert np.array_equal(back[f], ev[f]), f
    # tonic's structured .npy reads the same
    np.save(tmp_path / 'x.npy', ev)
    assert np.array_equal(read_events(str(tmp_path / 'x.npy'))['t'], ev['t'])


def test_bad_recordings_are_named(tmp_path):
    ev = np.zeros(3, EVENT_DTYPE)
    ev['x'], ev['y'], ev['t'] = [1, 2, 3], [1, 2, 3], [1, 2, 3]
    good = str(tmp_path / 'good.bin')
    write_bin(good, ev)
    trunc = tmp_path / 'trunc.bin'
    trunc.write_bytes(open(good, 'rb').read()[:-2])
    with pytest.raises(ValueError, match='trunc.bin: truncated'):
        read_events(str(trunc))
    empty = tmp_path / 'empty.bin'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.bin: empty recording'):
        read_events(str(empty))
    with pytest.raises(ValueError, match='good.bin: events outside the 2x2'):
        read_events(good, sensor_size=(2, 2))
    junk = tmp_path / 'junk.npy'
    np.save(junk, np.arange(3))
    with pytest.raises(ValueError, match='junk.npy: not a structured'):
        read_events(str(junk))


def test_frames_and_time_axis(scan):
    ev = emulate(scan, seed=0)
    frames = EventsToFrames(n_time_bins=4).transform(
        dict(events=ev))['img']
    assert frames.shape == (4, 2, 34, 34)
    # each event in at most one bin (tonic's binning may leave out a few
    # at the very end of the recording)
    assert 0.995 * len(ev) <= frames.sum() <= len(ev)
    # each bin holds its own slice of time: the bins differ
    assert not np.array_equal(frames[0], frames[1])
    one = EventsToFrames(n_time_bins=1).transform(dict(events=ev))['img']
    assert 0.995 * len(ev) <= one.sum() <= len(ev)
    assert np.abs(one[0] - frames.sum(0)).sum() <= 0.005 * len(ev)
    pre = EventDataPreprocessor(pad_size_divisor=16)
    batch = [torch.from_numpy(frames), torch.from_numpy(frames * 2)]
    out = pre(dict(inputs=batch, data_samples=None))['inputs']
    assert out.shape == (4, 2, 2, 48, 48)  # [T, B, 2, H, W], padded
    assert torch.equal(out[:, 1, :, :34, :34], 2 * torch.from_numpy(frames))
    assert out[..., 34:, :].abs().sum() == 0


def test_frames_downsampled_by_tonic(scan):
    """``spatial_factor=0.5``: 17x17 frames whose 2x2 blocks hold the
    events of the full-size frame's pixels (tonic ``Downsample``)."""
    ev = emulate(scan, seed=0)
    full = EventsToFrames(n_time_bins=2).transform(dict(events=ev))['img']
    half = EventsToFrames(n_time_bins=2, spatial_factor=0.5).transform(
        dict(events=ev))['img']
    assert half.shape == (2, 2, 17, 17)
    pooled = full.reshape(2, 2, 17, 2, 17, 2).sum((3, 5))
    assert np.array_equal(half, pooled)
    with pytest.raises(ValueError, match='spatial_factor'):
        EventsToFrames(spatial_factor=2)


def test_dataset_builds_reads_and_refuses(tmp_path):
    from projects.event_digits.event_digits import NMNISTEvents
    root = str(tmp_path / 'ev')
    ds = NMNISTEvents(root, split='val', build=dict(num=15))
    assert len(ds) == 3 and os.path.isfile(osp.join(root, 'MANIFEST.json'))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert {d['gt_label'] for d in infos} <= set(range(10))
    assert osp.basename(infos[0]['img_path']) == '00000.bin'
    # a damaged copy is rebuilt, not used
    victim = infos[0]['img_path']
    open(victim, 'ab').write(b'\x00')
    ds = NMNISTEvents(root, split='val', build=dict(num=15))
    assert osp.getsize(victim) % 5 == 0
    with pytest.raises(FileNotFoundError, match='Train/<digit>'):
        NMNISTEvents(str(tmp_path / 'nothing'), split='train')


CONFIGS = [f'projects/event_digits/configs/'
           f'metaspikeformer-demo_1xb32_event-digits-t{t}.py' for t in (1, 4, 8)]


@pytest.mark.parametrize('path', CONFIGS)
def test_configs_build_and_keep_time(path):
    """The project's configs inherit the classification demo and change only
    the data, channels, T and preprocessor; the model sees [T, B, 2, H, W]."""
    from mmengine.config import Config
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(path)
    import_modules_from_strings(**cfg.custom_imports)
    T = int(path[-4])
    assert cfg.model.backbone.T == T and cfg.model.backbone.in_channels == 2
    assert cfg.model.backbone.arch.embed_dims == [16, 32, 64, 128]
    steps = [p for p in cfg.train_dataloader.dataset.pipeline
             if p.type.endswith('EventsToFrames')]
    assert steps[0].n_time_bins == T
    from spikeformer_mm.apis import init_model
    model = init_model(cfg)  # top-level data_preprocessor merged, as Runner
    frames = torch.randint(0, 3, (2, T, 2, 34, 34)).float()
    data = model.data_preprocessor(dict(inputs=list(frames)), False)
    assert data['inputs'].shape == (T, 2, 2, 34, 34)
    assert model(data['inputs'], mode='tensor').shape == (2, 10)


def test_event_detector_roi_align_gives_mmcvs_values():
    """The event detector's RoI extractor (one sample per bin, as two
    matrix products: ``SeparableRoIAlign``) gives what mmcv's own kernel
    gives with those settings, values and gradients, on digit-sized RoIs at
    stride 4; and the config trains and tests in NHWC."""
    from mmcv.ops import RoIAlign
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from spikeformer_mm.models.heads.roi_extractor import SeparableRoIAlign
    from spikeformer_mm.registry import MODELS
    cfg = Config.fromfile(
        'projects/event_digits/configs/'
        'faster-rcnn_metaspikeformer-demo_fpn_moving-digits-t2.py')
    assert {'type': 'spikeformer_mm.ChannelsLastHook'} in cfg.custom_hooks
    init_default_scope('mmdet')
    ext = MODELS.build(cfg.model.roi_head.bbox_roi_extractor)
    layer = ext.roi_layers[0]
    assert isinstance(layer, SeparableRoIAlign) and layer.sampling_ratio == 1
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 8, 24, 24, generator=g)
    xy = torch.rand(16, 2, generator=g) * 60
    rois = torch.cat([torch.randint(0, 2, (16, 1), generator=g).float(), xy,
                      xy + 24 + torch.rand(16, 2, generator=g) * 12], 1)
    out, grads = [], []
    for op in (layer, RoIAlign(output_size=7, spatial_scale=0.25,
                               sampling_ratio=1)):
        x = feats.clone().requires_grad_()
        y = op(x, rois.clone())
        y.square().sum().backward()
        out.append(y.detach())
        grads.append(x.grad)
    assert torch.allclose(out[0], out[1], atol=1e-5)
    assert torch.allclose(grads[0], grads[1], atol=1e-4)


@pytest.fixture(scope='module')
def event_smoke(demo, tmp_path_factory):
    """``tools/run_demos.py --tasks event --smoke`` from the demo's
    classifier: (work dir, its summary); the event detector's bounded run
    starts from it."""
    import json

    from helpers import run_py
    wd = tmp_path_factory.mktemp('event_demo')
    run_py('tools/run_demos.py', '--tasks', 'event', '--smoke', '--work-dir',
           str(wd), '--cls-checkpoint',
           demo[1]['classification']['checkpoint'], timeout=900)
    return wd, json.load(open(wd / 'summary.json'))


@pytest.mark.e2e
def test_demo_task_and_energy_through_the_tools(demo, event_smoke,
                                                tmp_path):
    """Bounded: ``tools/run_demos.py --tasks event --smoke`` from the demo's
    classifier (256 recordings, 3 epochs, tools/train.py then tools/test.py;
    the event model starts from the classifier's backbone) learns to its
    floor, then the energy tool: the encoding conv, fed event counts,
    counts synaptic operations."""
    import json

    from helpers import run_py
    from helpers.floors import SMOKE_FLOORS
    cls_ckpt = demo[1]['classification']['checkpoint']
    wd, summary = event_smoke
    entry = summary['event']
    assert entry['config'] == CONFIGS[1] and 0 <= entry['top1'] <= 100
    assert entry['top1'] >= SMOKE_FLOORS['event', 'top1'], entry['top1']
    logs = ''.join(p.read_text() for p in (wd / 'event').glob('*/*.log'))
    assert f'PretrainedInit: load from {cls_ckpt}' in logs
    report = tmp_path / 'energy.json'
    run_py('tools/analysis_tools/energy.py', CONFIGS[1], entry['checkpoint'],
           '--num-images', '2', '--out', str(report))
    report = json.load(open(report))
    assert report['num_images'] == 2  # [T, B, ...] inputs: B images
    first = report['layers'][0]
    assert first['name'] == 'backbone.downsample1_1.encode_conv'
    assert first['input'] == 'events' and first['macs'] == 0
    assert first['sops'] > 0


@pytest.mark.e2e
def test_event_detection_demo_learns_in_its_bounded_form(event_smoke):
    """Bounded: ``tools/run_demos.py --tasks event-detection --smoke`` in
    the event task's work dir starts from that event classifier (its first
    conv included: it reads ON/OFF counts already): 48 moving-digit
    recordings written in Gen1's format (the real reader reads them), 3
    epochs, tools/train.py then tools/test.py; the detector reaches its
    floor."""
    import json

    from helpers import run_py
    from helpers.floors import SMOKE_FLOORS
    wd, before = event_smoke
    run_py('tools/run_demos.py', '--tasks', 'event-detection', '--smoke',
           '--work-dir', str(wd), timeout=900)
    entry = json.load(open(wd / 'summary.json'))['event-detection']
    assert osp.isfile(entry['checkpoint'])
    assert ('model.backbone.init_cfg.checkpoint=' +
            before['event']['checkpoint']) in entry['options']
    logs = ''.join(p.read_text() for p in
                   (wd / 'event-detection').glob('*/*.log'))
    assert f'PretrainedInit: load from {before["event"]["checkpoint"]}' \
        in logs
    floor = SMOKE_FLOORS['event-detection', 'bbox_mAP_50']
    assert entry['bbox_mAP_50'] >= floor, (entry['bbox_mAP_50'], floor)


def test_a_cut_recording_and_a_users_own_folder_are_explained(tmp_path):
    """A .bin cut at an event boundary parses, but spans far less than an
    N-MNIST recording: a warning says so. A folder of the user's own
    recordings is not rebuilt, and the error says how to read it."""
    from projects.event_digits.event_digits import NMNISTEvents
    from spikeformer_mm.datasets.digits import ForeignDirectoryError
    ev = np.zeros(3, EVENT_DTYPE)
    ev['x'], ev['y'], ev['t'] = [1, 2, 3], [1, 2, 3], [0, 10_000, 31_000]
    cut = str(tmp_path / 'cut.bin')
    write_bin(cut, ev)
    with pytest.warns(UserWarning, match=r'cut.bin: the recording spans 31 '
                      r'ms; N-MNIST recordings span about 300 ms'):
        read_events(cut)
    ev['t'][-1] = 300_000
    write_bin(cut, ev)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        read_events(cut)  # a whole recording: no warning
    mine = tmp_path / 'my_nmnist'
    (mine / 'Train' / '3').mkdir(parents=True)
    write_bin(str(mine / 'Train' / '3' / '00001.bin'), ev)
    with pytest.raises(ForeignDirectoryError,
                       match=r'read it as it is with build=None'):
        NMNISTEvents(str(mine), split='train', build=dict())
    assert len(NMNISTEvents(str(mine), split='train', build=None)) == 1


def _record(name):
    import json

    from helpers import ROOT
    with open(osp.join(ROOT, 'docs/results', name)) as f:
        return json.load(f)


def _doc(name):
    from helpers import ROOT
    with open(osp.join(ROOT, name)) as f:
        return ' '.join(f.read().split())


def test_event_detection_figures_are_the_committed_run_record():
    """The README's and the project's event-detection figures are what
    run_demos.py wrote (docs/results/event_detection_demo_2026-12-07b.json:
    3 seeds x native and AVX2 kernels, each from the event classifier of
    its seed and kernel set, two side by side on one thread each), and the
    recipe searches' figures are their records'."""
    rec = _record('event_detection_demo_2026-12-07b.json')
    entry = rec['summary']['event-detection']
    runs = entry['runs']
    assert sorted((r['seed'], r['kernel_set']) for r in runs) == [
        (s, k) for s in range(3) for k in ('avx2', 'native')]
    for r in runs:
        tail = '' if r['kernel_set'] == 'native' else '-' + r['kernel_set']
        assert r['options'][0].startswith('model.backbone.init_cfg.')
        assert r['options'][0].endswith(f'/event/seed{r["seed"]}{tail}/'
                                        'epoch_6.pth'), r['options']
        assert (r['threads'], r['parallel_runs']) == (1, 2)
    s = entry['spread']['bbox_mAP_50']
    assert s['min'] == min(r['bbox_mAP_50'] for r in runs)
    assert s['max'] == max(r['bbox_mAP_50'] for r in runs)
    said = (f'bbox mAP@0.5 **{s["mean"]:.3f} ± {s["std"]:.3f}** '
            f'({s["min"]:.3f}-{s["max"]:.3f})')
    readme, project = _doc('README.md'), _doc(
        'projects/event_digits/README.md')
    assert said in project  # the README gives both CPUs' (test below)
    minutes = [r['seconds'] / 60 for r in runs]
    span = f'{min(minutes):.1f}-{max(minutes):.1f}'
    assert f'{span} minutes per run' in project
    # the project's account of this (Xeon) recipe says the goal unmet
    assert s['mean'] < 0.85 and (
        f'the mAP is **not met** ({s["mean"]:.3f} on average') in project
    assert min(minutes) > 10 and (
        f'the 10 minutes are **not met**: {span} minutes per run') in project
    assert readme
    m95 = entry['spread']['bbox_mAP']
    assert (f'mAP@[.5:.95] {m95["mean"]:.3f} ± {m95["std"]:.3f}'
            in project)
    train = [r['train_seconds'] / 60 for r in runs]
    assert (f'of which {min(train):.1f}-{max(train):.1f} training'
            in project)
    by_set = entry['spread_by_kernel_set']
    assert (f'native kernels {by_set["native"]["bbox_mAP_50"]["mean"]:.3f} '
            f'on average, AVX2 {by_set["avx2"]["bbox_mAP_50"]["mean"]:.3f}'
            in project)
    # this recipe's search: each run's figure where the project says it
    search = _record('event_detection_recipe_search_2026-12-07b.json')
    got = {t['name']: t['bbox_mAP_50'] for t in search['tried']}
    for t in search['tried']:
        assert t['seed'] == 0 and t['commit'].startswith('7940919')
    for phrase, name in (
            ('**50 ms windows** gave {}', 'w50'),
            ('lr 2e-3 instead of 1e-3 gave {} with', 'lr2e-3'),
            ('but {} with 50 ms and', 'w50-lr2e-3'),
            ('and {} with 30 ms windows', 'w30-lr2e-3'),
            ('lr 5e-4 {};', 'w50-lr5e-4'),
            ('the same iterations) {};', 'w50-n1080-e2'),
            ('in about the same time) {};', 'w50-b8'),
            ('**5 epochs** {},', 'w50-e5'),
            ('21% of the CPU time) {} (shipped)', 'w50-e5-sr1tv')):
        assert phrase.format(f'{got[name]:.3f}') in project, phrase
    shipped = [t for t in search['tried'] if t['name'] == 'w50-e5-sr1tv'][0]
    assert (f'(shipped) in {shipped["train_iteration_seconds"] / 60:.1f} '
            'minutes of training') in project
    assert search['compare']['bbox_mAP_50'] == 0.693 and \
        '3 epochs: 0.693)' in project
    (seed0, ) = [r for r in runs if (r['seed'], r['kernel_set']) == (
        0, 'native')]
    assert seed0['bbox_mAP_50'] == shipped['bbox_mAP_50']  # deterministic
    assert f'raised seed 0 to {seed0["bbox_mAP_50"]:.3f}' in readme
    threads = search['threads']
    alone = threads['alone_2_threads']
    beside = threads['side_by_side_1_thread_each']['w50-e5-sr1tv']
    assert (f'took {statistics.mean(alone):.2f} s alone on two threads and '
            f'{beside:.2f} s on one thread beside another run') in \
        _doc('README.md')
    # the round before, in its own records
    search = _record('event_detection_recipe_search_2026-12-07.json')

    def tried(phrase):
        (t, ) = [t for t in search['tried'] if phrase in t['recipe']]
        return t

    assert search['compare']['bbox_mAP_50'] == \
        search['diagnosis']['bbox_mAP_50']
    agnostic = search['diagnosis']['bbox_mAP_50_one_class']
    assert f'give {agnostic:.3f}: the detector finds' in project
    assert f'{agnostic:.3f} with one class for all' in readme
    for t in search['tried']:
        assert t['seed'] == 0 and t['commit'].startswith('02be7fe')
    many = tried('backbone from the static classifier')
    assert (f'3 epochs in the same time) gave {many["bbox_mAP_50"]:.3f}'
            in project)
    event = tried('backbone from the event classifier')
    assert f'instead of the static one {event["bbox_mAP_50"]:.3f} ' \
        '(kept since)' in project
    assert f'raised seed 0 to {event["bbox_mAP_50"]:.3f}' in readme
    batch = tried('batch 16')
    assert f'{batch["bbox_mAP_50"]:.3f} in {batch["seconds"] / 60:.0f} ' \
        'minutes' in project
    shake = tried('camera shaking')
    assert f'across it) {shake["bbox_mAP_50"]:.3f}.' in project
    old = _record('event_detection_demo_2026-12-07.json')
    old_runs = old['summary']['event-detection']['runs']
    s = old['summary']['event-detection']['spread']['bbox_mAP_50']
    minutes = [r['seconds'] / 60 for r in old_runs]
    assert (f'**{s["mean"]:.3f} ± {s["std"]:.3f}** ({s["min"]:.3f}-'
            f'{s["max"]:.3f}) in {min(minutes):.1f}-{max(minutes):.1f} '
            'minutes per run') in project
    # the runs before, in their own records
    old = _record('event_detection_demo_2026-12-06.json')
    s = old['summary']['event-detection']['spread']['bbox_mAP_50']
    assert (f'**{s["mean"]:.3f} ± {s["std"]:.3f}** '
            f'({s["min"]:.3f}-{s["max"]:.3f})') in project
    before = {t['recipe'].split(',')[0]: t['bbox_mAP_50']
              for t in old['tried']}
    assert (f'for 3 epochs gave '
            f'{before["50 ms windows (T=2 bins of 25 ms)"]:.3f}') in project
    assert (f'for 4 epochs {before["100 ms windows (T=2 bins of 50 ms)"]:.3f}'
            in project)
    b200 = before['200 ms windows (T=2 bins of 100 ms)']
    assert f'200 ms windows {b200:.3f}:' in project
    adapt = _record('event_detection_adapt_input_conv_2026-12-06.json')
    assert (f'instead of random gave {adapt["metrics"]["bbox_mAP_50"]:.3f} '
            f'on seed {adapt["seed"]}') in project
    rec14 = _record('event_detection_14ep_classifier_2026-12-07.json')
    (run, ) = rec14['summary']['event-detection']['runs']
    assert run['seed'] == 0 and run['options'][0].endswith(
        'classification/seed0/epoch_14.pth')
    assert run['bbox_mAP_50'] == search['compare']['bbox_mAP_50']
    assert (f'gave {run["bbox_mAP_50"]:.3f} on seed 0 in '
            f'{run["seconds"] / 60:.1f} minutes') in project


def test_event_detection_on_both_cpus_is_the_pooled_record():
    """The recipe before (torchvision's RoIAlign, NCHW) pooled over the
    Xeon's record (3 seeds x native/AVX2) and the AMD EPYC's (3 seeds,
    native; each from the event classifier of its seed on that CPU): the
    pool is what pool_records gives from the committed records, and the
    project's sentences are its figures."""
    import os.path as osp

    from helpers import ROOT
    from spikeformer_mm.analysis.run_record import pool_records
    pooled = _record('event_detection_pooled_2026-12-07.json')
    assert pooled['pooled_from'] == [
        'docs/results/event_detection_demo_2026-12-07b.json',
        'docs/results/event_detection_amd_2026-12-07.json']
    e = pooled['summary']['event-detection']
    again = pool_records([osp.join(ROOT, p) for p in pooled['pooled_from']],
                         {'event-detection': ['bbox_mAP_50', 'bbox_mAP']})
    for r in again['event-detection']['runs']:
        r['record'] = osp.relpath(r['record'], ROOT)
    assert again['event-detection'] == e
    amd = _record('event_detection_amd_2026-12-07.json')
    runs = amd['summary']['event-detection']['runs']
    assert 'EPYC' in amd['cpu'] and not amd['commit'].endswith('dirty')
    assert [(r['seed'], r['kernel_set']) for r in runs] == [
        (s, 'native') for s in range(3)]
    for r in runs:
        assert r['options'][0].endswith(
            f'/event/seed{r["seed"]}/epoch_6.pth'), r['options']

    def cell(m, b=''):
        return (f'{b}{m["mean"]:.3f} ± {m["std"]:.3f}{b} '
                f'({m["min"]:.3f}-{m["max"]:.3f})')
    per = {('AMD EPYC' if 'EPYC' in c else 'Xeon'): m['bbox_mAP_50']
           for c, m in e['spread_by_cpu'].items()}
    readme, project = _doc('README.md'), _doc(
        'projects/event_digits/README.md')
    m95 = e['spread']['bbox_mAP']
    minutes = [r['seconds'] / 60 for r in e['runs']]
    assert ('pooled over both CPUs\' 9 runs (`docs/results/event_detection_'
            f'pooled_2026-12-07.json`): bbox mAP@0.5 '
            f'{cell(e["spread"]["bbox_mAP_50"])}') in project
    assert e['spread']['bbox_mAP_50']['mean'] < 0.85 and min(minutes) > 10
    assert m95 and per['Xeon'] and readme  # the row is the new recipe's
    amd_min = [r['seconds'] / 60 for r in runs]
    assert (f'on the AMD EPYC {cell(per["AMD EPYC"])} over 3 seeds with '
            f'native kernels, {min(amd_min):.1f}-{max(amd_min):.1f} minutes '
            'per run') in project


NHWC_RECORD = 'event_detection_amd_2026-12-07c.json'  # the recipe before
# the shipped recipe: 6 epochs, 16 of 32 RoIs positive, two processes a run
SHIPPED_RECORD = 'event_detection_amd_2026-12-07d.json'


def _cell(m, b=''):
    return (f'{b}{m["mean"]:.3f} ± {m["std"]:.3f}{b} '
            f'({m["min"]:.3f}-{m["max"]:.3f})')


def test_event_detection_row_is_the_shipped_recipes_record():
    """The README's event-detection row is the record of the shipped recipe
    (3 seeds x native/AVX2 kernels on the AMD EPYC, each from that CPU's
    event classifier of its seed and kernel set, each run two processes of
    one thread: ``--nproc 2``), made from a clean checkout of the config as
    it is now; the goal is said met or not as the figures are. The
    project's sentences give that record and the recipe before's
    (NHWC_RECORD) alike. Mutation tried: pos_fraction 0.5 -> 0.25 in the
    config fails it."""
    from mmengine.config import Config

    from helpers import ROOT
    rec = _record(SHIPPED_RECORD)
    e = rec['summary']['event-detection']
    runs = e['runs']
    assert 'EPYC' in rec['cpu'] and not rec['commit'].endswith('dirty')
    assert '--nproc 2' in rec['command']
    assert sorted((r['seed'], r['kernel_set']) for r in runs) == [
        (s, k) for s in range(3) for k in ('avx2', 'native')]
    for r in runs:
        tail = '' if r['kernel_set'] == 'native' else '-' + r['kernel_set']
        assert r['options'][0].endswith(
            f'/event/seed{r["seed"]}{tail}/epoch_6.pth'), r['options']
        assert (r['nproc'], r['threads'], r['parallel_runs']) == (2, 1, 1)
    cfg = Config.fromfile(osp.join(ROOT, e['config']))
    assert {'type': 'spikeformer_mm.ChannelsLastHook'} in cfg.custom_hooks
    assert cfg.model.roi_head.bbox_roi_extractor.roi_layer.type == \
        'spikeformer_mm.SeparableRoIAlign'
    assert cfg.train_cfg.max_epochs == 6
    sampler = cfg.model.train_cfg.rcnn.sampler
    assert (sampler.num, sampler.pos_fraction) == (32, 0.5)
    proposals = cfg.model.train_cfg.rpn_proposal
    assert (proposals.nms_pre, proposals.max_per_img) == (200, 100)

    m50, m95 = e['spread']['bbox_mAP_50'], e['spread']['bbox_mAP']
    by_set = e['spread_by_kernel_set']
    minutes = [r['seconds'] / 60 for r in runs]
    met = m50['mean'] >= 0.85
    fast = max(minutes) <= 10
    row = (f'bbox mAP@0.5 {_cell(m50, "**")} on the AMD EPYC (3 seeds x '
           'native/AVX2 kernels: native '
           f'{by_set["native"]["bbox_mAP_50"]["mean"]:.3f} on average, AVX2 '
           f'{by_set["avx2"]["bbox_mAP_50"]["mean"]:.3f}), mAP@[.5:.95] '
           f'{m95["mean"]:.3f} ± {m95["std"]:.3f}; each run two processes '
           f'on the 2 cores (`--nproc 2`); `docs/results/{SHIPPED_RECORD}`; '
           f'the goal of 0.85 is {"met" if met else "**not met**"}, the 10 '
           f'minutes are {"met" if fast else "**not met**"} | '
           f'{min(minutes):.1f}-{max(minutes):.1f} min |')
    assert row in _doc('README.md'), row
    project = _doc('projects/event_digits/README.md')
    for name in (SHIPPED_RECORD, NHWC_RECORD):
        runs = _record(name)['summary']['event-detection']['runs']
        spread = _record(name)['summary']['event-detection']['spread']
        minutes = [r['seconds'] / 60 for r in runs]
        train = [r['train_seconds'] / 60 for r in runs]
        said = (f'{_cell(spread["bbox_mAP_50"])} over 3 seeds x native/AVX2 '
                f'kernels, {min(minutes):.1f}-{max(minutes):.1f} minutes per '
                f'run (of which {min(train):.1f}-{max(train):.1f} training)')
        assert said in project, said


def test_event_detection_two_process_figures_are_their_record():
    """What the config, tools/run_demos.py and the project say of training
    as two processes and of the recipes tried with it is the record's
    (docs/results/event_detection_nproc_amd_2026-12-07.json)."""
    from helpers import ROOT
    rec = _record('event_detection_nproc_amd_2026-12-07.json')
    tm = rec['timing']
    tried = {t['name']: t for t in rec['tried']}
    with open(osp.join(ROOT, 'tools', 'run_demos.py')) as f:
        tool = ' '.join(f.read().split())
    assert (f'took {tm["one_process_batch4_ms"] / 1000:.3f} s on one thread '
            f'and {tm["two_processes_batch2_each_ms"] / 1000:.2f} s as two '
            'processes of batch 2') in tool
    cfg = _doc('projects/event_digits/configs/'
               'faster-rcnn_metaspikeformer-demo_fpn_moving-digits-t2.py')
    assert (f'with 6 epochs {tried["e6pos5"]["bbox_mAP_50"]:.3f} against '
            f'{tried["e6trim"]["bbox_mAP_50"]:.3f} at 25% of 32') in cfg
    project = _doc('projects/event_digits/README.md')
    for said in (
            f'{tm["one_process_batch4_ms"]} ms per iteration on one thread, '
            f'{tm["two_processes_batch2_each_ms"]} ms as two processes of '
            f'batch 2 ({tm["one_process_batch2_ms"]} ms for one process of '
            f'batch 2 alone, {tm["gloo_allreduce_of_the_gradients_ms"]} ms '
            'for the all-reduce of its gradients)',
            f'{tried["ddp2x2"]["bbox_mAP_50"]:.3f} for the recipe before as '
            f'two processes, {tried["e6trim"]["bbox_mAP_50"]:.3f} with 6 '
            f'epochs, 32 RoIs and fewer proposals, '
            f'{tried["e6pos5"]["bbox_mAP_50"]:.3f} with half of them '
            'positive (shipped)'):
        assert said in project, said
    assert [t['nproc'] for t in rec['tried']] == [2, 2, 2]
    assert (f'{tm["two_processes_batch2_each_ms"]} against '
            f'{tm["one_process_batch4_ms"]} ms per iteration of a batch of 4 '
            f'on the 2-core AMD EPYC (one process of batch 2 alone: '
            f'{tm["one_process_batch2_ms"]} ms; the gloo all-reduce of its '
            f'{tm["n_parameters"] / 1e6:.1f} M gradients: '
            f'{tm["gloo_allreduce_of_the_gradients_ms"]} ms') in _doc(
        'docs/speed.md')


def test_event_detection_speed_figures_are_their_record():
    """The project's account of the speed-up and of the recipes tried with
    it is the speed record's (profiles, the RoIAlign benchmark, each try's
    figure against the recipe before on that seed)."""
    rec = _record('event_detection_speed_amd_2026-12-07.json')
    p, sh = rec['profile'], rec['shipped_profile']
    b, a = sh['before'], sh['shipped']
    tried = {t['name']: t['bbox_mAP_50'] for t in rec['tried']}
    bench = rec['roi_align_benchmark']
    project = _doc('projects/event_digits/README.md')
    for said in (
            f'an iteration of the recipe before took {b["iteration_ms"]} ms, '
            f'of which {b["backward_ms"]} ms backward, {b["backbone_ms"]} ms '
            f'the backbone\'s forward and {b["roi_ms"]} ms the RoI extractor',
            f'{bench["separable_ms"]} against {bench["torchvision_ms"]} ms '
            'forward and backward',
            f'took the iteration from {p["p1t1"]["iteration_ms"]} to '
            f'{p["cl"]["iteration_ms"]} ms on their own',
            f'Both together: {a["iteration_ms"]} ms against '
            f'{b["iteration_ms"]} '
            f'({a["iteration_ms"] / b["iteration_ms"]:.2f}x)',
            f'gave {tried["fs1cl"]:.3f} bbox mAP@0.5 against the recipe '
            f'before\'s {rec["baseline"]["bbox_mAP_50"]:.3f} on that seed, '
            f'its first two stages {tried["fs2cl"]:.3f}',
            f'(`finest_scale=12`, with the shipped recipe) '
            f'{tried["sepcl-fs12"]:.3f}, from the stride-16 level '
            f'{tried["sepcl-fs6"]:.3f}'):
        assert said in project, said
    speed = _doc('docs/speed.md')
    assert (f'this takes {bench["separable_ms"]} against torchvision\'s '
            f'{bench["torchvision_ms"]} ms forward and backward, and with '
            f'NHWC the demo\'s iteration {a["iteration_ms"]} against '
            f'{b["iteration_ms"]} ms') in speed
    (tv, ) = [ln for ln in p['p1t1']['op_table'].splitlines()
              if 'roi_align_backward' in ln]
    assert 9 <= float(tv.split()[1].rstrip('%')) <= 11  # "about 10%"
    assert rec['baseline']['bbox_mAP_50'] == _record(
        'event_detection_amd_2026-12-07.json')['summary']['event-detection'][
        'runs'][0]['bbox_mAP_50']


def test_event_digits_figures_are_the_committed_run_record():
    """The event digits' figure, wherever the docs give it, is what
    run_demos.py wrote (docs/results/event_digits_2026-12-06.json: 3 seeds
    x native and AVX2 kernels)."""
    import json
    import os.path as osp

    from helpers import ROOT
    rec = json.load(open(osp.join(
        ROOT, 'docs/results/event_digits_2026-12-06.json')))
    runs = rec['summary']['event']['runs']
    assert sorted((r['seed'], r['kernel_set']) for r in runs) == [
        (s, k) for s in range(3) for k in ('avx2', 'native')]
    s = rec['summary']['event']['spread']['top1']
    assert s['min'] == min(r['top1'] for r in runs)
    said = f'{s["mean"]:.2f} ± {s["std"]:.2f}%'
    for doc in ('README.md', 'docs/tasks.md',
                'projects/event_digits/README.md'):
        text = ' '.join(open(osp.join(ROOT, doc)).read().split())
        assert said in text and '95.93' not in text, doc
    # the README's table: both CPUs' runs pooled by run_demos.py --pool
    # (the Xeon's record above and the AMD EPYC's), each CPU's beside
    pooled = json.load(open(osp.join(
        ROOT, 'docs/results/event_digits_pooled_2026-12-07.json')))
    assert pooled['pooled_from'] == [
        'docs/results/event_digits_2026-12-06.json',
        'docs/results/event_digits_amd_2026-12-07.json']
    e = pooled['summary']['event']
    assert len(e['runs']) == 12 and e['runs'][:6] == [
        dict(r, record=pooled['pooled_from'][0]) for r in runs]
    from spikeformer_mm.analysis.run_record import pool_records
    again = pool_records([osp.join(ROOT, p) for p in pooled['pooled_from']],
                         {'event': ['top1']})['event']
    for r in again['runs']:
        r['record'] = osp.relpath(r['record'], ROOT)
    assert again == e

    def cell(m, b=''):
        return (f'{b}{m["mean"]:.2f} ± {m["std"]:.2f}%{b} '
                f'({m["min"]:.2f}-{m["max"]:.2f})')
    per = {('AMD EPYC' if 'EPYC' in c else 'Xeon'): m['top1']
           for c, m in e['spread_by_cpu'].items()}
    readme = open(osp.join(ROOT, 'README.md')).read()
    assert (f'top-1 {cell(e["spread"]["top1"], "**")} over both CPUs (12 '
            f'runs; 3 seeds x native/AVX2 kernels on each: Xeon '
            f'{cell(per["Xeon"])}, AMD EPYC {cell(per["AMD EPYC"])};') in readme
    m = per['AMD EPYC']
    for doc in ('README.md', 'docs/tasks.md',
                'projects/event_digits/README.md'):
        text = ' '.join(open(osp.join(ROOT, doc)).read().split())
        assert f'{m["mean"]:.2f} ± {m["std"]:.2f}%' in text, doc


def test_event_detector_energy_is_the_committed_report():
    """The project README's energy of the event detector is what energy.py
    wrote (docs/results/event_detection_demo_2026-12-07b_energy.json); its
    first conv reads event counts, billed per event."""
    import json
    import os.path as osp

    from helpers import ROOT
    rep = json.load(open(osp.join(
        ROOT, 'docs/results/event_detection_demo_2026-12-07b_energy.json')))
    (first, ) = [x for x in rep['layers'] if x['source'] == 'input']
    assert first['input'] == 'events' and first['measured']['macs'] == 0
    said = ' '.join(open(osp.join(
        ROOT, 'projects/event_digits/README.md')).read().split())
    assert (f'{rep["conventions"]["measured"]:.2f} mJ per sample measured, '
            f'{rep["dense"]["share"]["measured"]:.0%} of it') in said
    assert f'({first["measured"]["sops"] / 1e6:.2f} M SOPs' in said
    assert (f'at {first["events_per_neuron_step"]:.2f} events per input '
            f'neuron and step (its non-zero fraction is '
            f'{first["firing_rate"]:.3f})') in said


def test_event_detection_t1_tries_are_their_record():
    """The project README's T=1 tries (AMD EPYC, seed 0) are their
    record's figures, against the shipped recipe's run on that CPU."""
    rec = _record('event_detection_t1_amd_2026-12-07.json')
    base = _record('demo_amd_2026-12-07.json')
    native = [r for r in base['summary']['event-detection']['runs']
              if r['kernel_set'] == 'native'][0]
    assert rec['baseline']['bbox_mAP_50'] == native['bbox_mAP_50']
    got = {t['name']: t for t in rec['tried']}
    assert all(t['iterations'] == 2700 and 'n_time_bins=1' in t['command']
               for t in got.values())
    assert 'window_us=25000' in got['t1-w25']['command']
    secs = got['t1-w50']['train_iteration_seconds']
    b = rec['baseline']['train_iteration_seconds']
    said = (f'50 ms window gave {got["t1-w50"]["bbox_mAP_50"]:.3f} and one '
            f'bin of a 25 ms window {got["t1-w25"]["bbox_mAP_50"]:.3f}, '
            f'against the shipped recipe\'s {native["bbox_mAP_50"]:.3f} on '
            f'that CPU, in {secs:.0f} s of training iterations against '
            f'{b:.0f} s ({secs / b:.2f}x)')
    assert said in _doc('projects/event_digits/README.md'), said
