"""DVS128 Gesture and CIFAR10-DVS (projects/event_digits/event_digits/dvs.py):
tiny files written in each release's own format and layout, read back
through tonic and compared with the readers the SNN papers used (tonic's
DVSGesture, spikingjelly's CIFAR10DVS); both configs train and validate."""
import json
import os.path as osp

import numpy as np
import pytest

from helpers import run_py

pytest.importorskip('tonic')
from projects.event_digits.event_digits import (  # noqa: E402
    CIFAR10DVSEvents, DVSGestureEvents, read_events)

CIFAR_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                 'frog', 'horse', 'ship', 'truck')


def write_aedat2(path, x, y, p, t):
    """jAER's AEDAT 2.0 as its documentation lays it out: '#' header lines
    (the first '#!AER-DAT2.0'), then per event a big-endian 32-bit address
    (polarity bit 0, x bits 1-7, y bits 8-14) and a 32-bit timestamp."""
    ev = np.empty(len(t), [('a', '>u4'), ('t', '>u4')])
    x, y, p = (np.asarray(v, np.int64) for v in (x, y, p))
    ev['a'] = (y << 8) | (x << 1) | p
    ev['t'] = t
    with open(path, 'wb') as f:
        f.write(b'#!AER-DAT2.0\r\n# This is a raw AE data file - do not '
                b'edit\r\n# Data format is int32 address, int32 timestamp '
                b'(8 bytes total)\r\n')
        f.write(ev.tobytes())


def random_events(rng, n=400, size=128, span_us=1_000_000):
    return (rng.integers(0, size, n), rng.integers(0, size, n),
            rng.integers(0, 2, n), np.sort(rng.integers(0, span_us, n)))


def write_gesture(root, rng, users=(('train', 1), ('test', 24)), n=300):
    """tonic's DVS128 Gesture release: <root>/DVSGesture/ibmGesture{Train,
    Test}/user<NN>_<lighting>/<label>.npy, [N, 4] x, y, p, t (ms)."""
    for split, user in users:
        folder = osp.join(root, 'DVSGesture', f'ibmGesture{split.title()}',
                          f'user{user:02d}_fluorescent')
        import os
        os.makedirs(folder)
        for label in range(11):
            x, y, p, t = random_events(rng, n, span_us=6000)
            np.save(osp.join(folder, f'{label}.npy'),
                    np.stack([x, y, p, t], 1).astype(np.float64))


def test_cifar10_dvs_reads_as_spikingjelly_decodes_it(tmp_path):
    """The same file through ours and through spikingjelly's CIFAR10-DVS
    loader (what the SNN papers trained on) gives the same events."""
    import sys
    import types
    from unittest import mock

    # spikingjelly.datasets imports torchaudio (for its speech sets) at
    # import time; the CIFAR10-DVS loader does not use it
    with mock.patch.dict(sys.modules,
                         {'torchaudio': types.ModuleType('torchaudio')}):
        from spikingjelly.datasets.cifar10_dvs import _load_origin_data
    rng = np.random.default_rng(0)
    path = str(tmp_path / 'cifar10_cat_3.aedat')
    write_aedat2(path, *random_events(rng))
    ours = read_events(path, (128, 128))
    ref = _load_origin_data(path)
    for k in ('x', 'y', 't', 'p'):
        np.testing.assert_array_equal(ours[k].astype(np.int64),
                                      np.asarray(ref[k]).astype(np.int64), k)


def test_broken_aedat_files_are_refused_by_name(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / 'cut.aedat'
    write_aedat2(path, *random_events(rng, 10))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match=rf'{path}: truncated AEDAT 2.0'):
        read_events(str(path), (128, 128))
    for name, data, says in (
            ('v3', b'#!AER-DAT3.1\r\n#End Of ASCII Header\r\n' + bytes(28),
             'AEDAT 3.1;'),
            ('photo', b'\x89PNG\r\n' + bytes(64), 'not an AEDAT file'),
            ('v4', b'#!AER-DAT4.0\r\n' + bytes(32), 'AEDAT 4.0;')):
        path = tmp_path / f'{name}.aedat'
        path.write_bytes(data)
        with pytest.raises(ValueError, match=rf'{path}: {says}'):
            read_events(str(path), (128, 128))
    empty = tmp_path / 'empty.aedat'
    write_aedat2(empty, [], [], [], [])
    with pytest.raises(ValueError, match=rf'{empty}: empty recording'):
        read_events(str(empty), (128, 128))


def test_gesture_reads_as_tonics_dvsgesture(tmp_path):
    """A recording of tonic's release read by us equals tonic's own
    ``DVSGesture`` item (tonic's class, told the archive is there: it
    checks the release's md5)."""
    import tonic

    class DVSGesture(tonic.datasets.DVSGesture):  # tonic's folder name
        def _check_exists(self):
            return True

    rng = np.random.default_rng(2)
    write_gesture(str(tmp_path), rng, users=[('train', u)
                                             for u in range(1, 3)], n=50)
    tonic_set = DVSGesture(str(tmp_path), train=True)
    assert len(tonic_set) == 22
    events, label = tonic_set[7]
    ours = read_events(tonic_set.data[7], (128, 128))
    for k in ('x', 'y', 't', 'p'):
        np.testing.assert_array_equal(ours[k], events[k], k)
    bad = tmp_path / 'bad.npy'
    np.save(bad, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=rf'{bad}: not a structured event'):
        read_events(str(bad), (128, 128))


def test_datasets_list_the_release_layouts(tmp_path):
    rng = np.random.default_rng(3)
    write_gesture(str(tmp_path / 'g'), rng, n=20)
    train = DVSGestureEvents(str(tmp_path / 'g'), split='train',
                             lazy_init=False)
    val = DVSGestureEvents(str(tmp_path / 'g'), split='val')
    assert len(train) == len(val) == 11
    assert sorted(train.get_data_info(i)['gt_label'] for i in range(11)) == \
        list(range(11))
    assert all('user24_' in val.get_data_info(i)['img_path']
               for i in range(11))
    with pytest.raises(FileNotFoundError, match=r'ibmGestureTrain not found'
                       r'.*nothing is downloaded'):
        DVSGestureEvents(str(tmp_path / 'none'), split='train')
    for k, name in enumerate(CIFAR_CLASSES):
        (tmp_path / 'c' / name).mkdir(parents=True)
        for i in (0, 1, 2, 10):  # name order is not number order
            write_aedat2(tmp_path / 'c' / name / f'cifar10_{name}_{i}.aedat',
                         *random_events(rng, 20))
    c_train = CIFAR10DVSEvents(str(tmp_path / 'c'), split='train',
                               split_at=3)
    c_val = CIFAR10DVSEvents(str(tmp_path / 'c'), split='val', split_at=3)
    assert len(c_train) == 30 and len(c_val) == 10
    assert all(c_val.get_data_info(i)['img_path'].endswith('_10.aedat')
               for i in range(10))
    with pytest.raises(ValueError, match=r'split_at must be an integer'):
        CIFAR10DVSEvents(str(tmp_path / 'c'), split_at=0)
    with pytest.raises(ValueError, match=r"split must be one of"):
        DVSGestureEvents(str(tmp_path / 'g'), split='dev')
    odd = tmp_path / 'g' / 'DVSGesture' / 'ibmGestureTrain' / 'user01_led'
    odd.mkdir()
    np.save(odd / 'clap.npy', np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"ibmGestureTrain: not tonic's "
                       r'DVS128 Gesture layout'):
        DVSGestureEvents(str(tmp_path / 'g'), split='train')
    (tmp_path / 'c' / 'truck').rename(tmp_path / 'c' / 'lorry')
    with pytest.raises(FileNotFoundError, match=r'truck not found'):
        CIFAR10DVSEvents(str(tmp_path / 'c'))


@pytest.mark.e2e  # trains through the tools
@pytest.mark.parametrize('config,layout', [
    ('metaspikeformer-15m_1xb16_dvs-gesture-t16.py', 'gesture'),
    ('metaspikeformer-15m_1xb16_cifar10-dvs-t16.py', 'cifar10-dvs')])
def test_dvs_configs_train_and_validate_on_release_format_files(
        tmp_path, config, layout):
    """The shipped configs, unchanged but for where the data is, T=2 and a
    small batch, train 2 iterations and validate on files written in each
    release's format and layout."""
    rng = np.random.default_rng(4)
    root = tmp_path / 'data'
    opts = []
    if layout == 'gesture':
        write_gesture(str(root), rng, n=200)
    else:
        for name in CIFAR_CLASSES[:10]:
            (root / name).mkdir(parents=True)
            for i in range(2):
                write_aedat2(root / name / f'cifar10_{name}_{i}.aedat',
                             *random_events(rng, 200))
        opts += [f'{s}_dataloader.dataset.split_at=1'
                 for s in ('train', 'val', 'test')]
    opts += [f'{s}_dataloader.dataset.data_root={root}'
             for s in ('train', 'val', 'test')] + [
        'model.backbone.T=2', 'train_dataloader.batch_size=2',
        'val_dataloader.batch_size=4', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'randomness.seed=0'] + [
        f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
        for k in ('num_workers=0', 'persistent_workers=False')] + [
        f'{p}.n_time_bins=2' for p in (
            'train_dataloader.dataset.pipeline.1',
            'val_dataloader.dataset.pipeline.1')]
    wd = tmp_path / 'wd'
    run_py('tools/train.py', f'projects/event_digits/configs/{config}',
           '--work-dir', str(wd), '--cfg-options', *opts, timeout=900)
    log = sorted(wd.glob('*/vis_data/scalars.json'))[-1].read_text()
    rows = [json.loads(line) for line in log.splitlines()]
    assert any('accuracy/top1' in r for r in rows), rows[-1]
    assert (wd / 'epoch_1.pth').is_file()
