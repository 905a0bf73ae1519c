"""N-MNIST on disk: the 40-bit event files, and the embedded event digits
written in that layout.

The layout is the real N-MNIST's (Orchard et al. 2015), so that the same
dataset class reads a user's unpacked copy unchanged::

    <root>/Train/<digit>/<id>.bin
    <root>/Test/<digit>/<id>.bin

Each event is 5 bytes: ``x`` (8 bits), ``y`` (8 bits), then 24 bits whose
top bit is the polarity (1 = ON) and whose 23 others are the timestamp in
microseconds. Reading uses tonic's ``tonic.io.read_mnist_file``; tonic has
no writer, hence :func:`write_bin`.

:func:`ensure_event_digits` builds the embedded set from scikit-learn's
digits with :mod:`.emulator` through the toolbox's dataset builder
(``spikeformer_mm.datasets.digits``): a ``MANIFEST.json`` with the sha256
of every file and the settings, atomic builds, a broken, partial or stale
copy rebuilt, a foreign folder never touched. Split: as the static digits
(sample ``i`` is in Test iff ``i % 5 == 0``).
"""
import os
import os.path as osp
import warnings

import numpy as np

from .emulator import EVENT_DTYPE, emulate

SPLITS = {'train': 'Train', 'val': 'Test', 'test': 'Test'}
# A real N-MNIST recording spans about 300 ms (three saccades of 100 ms):
# a .bin read as much shorter was most likely cut (it still parses).
MIN_NMNIST_SPAN_US = 200_000
MAX_T = (1 << 23) - 1  # microseconds a 23-bit timestamp holds


def write_bin(path: str, events: np.ndarray):
    """Write events (x, y, t, p) in the N-MNIST 40-bit format."""
    x, y = events['x'].astype(np.int64), events['y'].astype(np.int64)
    t, p = events['t'].astype(np.int64), events['p'].astype(np.int64)
    if len(events) and (x.min() < 0 or x.max() > 255 or y.min() < 0 or
                        y.max() > 239 or t.min() < 0 or t.max() > MAX_T):
        raise ValueError(f'{path}: events do not fit the N-MNIST format '
                         f'(x <= 255, y < 240, 0 <= t < 2^23 us)')
    raw = np.empty((len(events), 5), np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p << 7) | ((t >> 16) & 0x7F)
    raw[:, 3] = (t >> 8) & 0xFF
    raw[:, 4] = t & 0xFF
    with open(path, 'wb') as f:
        f.write(raw.tobytes())


def _read_nmnist_bin(path: str) -> np.ndarray:
    from tonic.io import read_mnist_file
    size = osp.getsize(path)
    if size % 5:
        raise ValueError(f'{path}: truncated N-MNIST file ({size} bytes '
                         f'is not a whole number of 5-byte events)')
    try:
        return read_mnist_file(path, dtype=EVENT_DTYPE)
    except Exception as e:  # tonic's own parsing errors
        raise ValueError(f'{path}: not an N-MNIST event file ({e})') \
            from None


def _read_npy(path: str) -> np.ndarray:
    """tonic's structured events, or a DVS128 Gesture recording of tonic's
    release (an unstructured [N, 4] array)."""
    from .dvs import gesture_events
    try:
        ev = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise ValueError(f'{path}: not a readable .npy file ({e})') \
            from None
    if ev.dtype.names is None and ev.ndim == 2 and ev.shape[1] == 4:
        return gesture_events(ev)
    if ev.dtype.names is None or not {'x', 'y', 't', 'p'} <= set(
            ev.dtype.names):
        raise ValueError(f'{path}: not a structured event array with '
                         f'fields x, y, t, p, nor an [N, 4] DVS128 Gesture '
                         f'recording (dtype {ev.dtype}, shape {ev.shape})')
    return ev


def _read_aedat(path: str) -> np.ndarray:
    from .dvs import read_aedat2_dvs128
    return read_aedat2_dvs128(path)


# file suffix -> reader: one line per event file format
EVENT_READERS = {'.bin': _read_nmnist_bin, '.npy': _read_npy,
                 '.aedat': _read_aedat}


def read_events(path: str, sensor_size=(34, 34)) -> np.ndarray:
    """Events of one recording (by suffix, ``EVENT_READERS``: ``.bin`` in
    the N-MNIST format, read by tonic; tonic's structured ``.npy`` or a
    DVS128 Gesture ``.npy``; a CIFAR10-DVS ``.aedat``), checked: a truncated
    or corrupt file, an empty recording or events outside the sensor raise
    a ``ValueError`` naming the file."""
    reader = EVENT_READERS.get(osp.splitext(path)[1])
    if reader is None:
        raise ValueError(f'{path}: unknown event file type (one of '
                         f'{sorted(EVENT_READERS)})')
    ev = reader(path)
    if len(ev) == 0:
        raise ValueError(f'{path}: empty recording (no events)')
    w, h = sensor_size
    if ev['x'].min() < 0 or ev['x'].max() >= w or ev['y'].min() < 0 or \
            ev['y'].max() >= h:
        raise ValueError(
            f'{path}: events outside the {w}x{h} sensor (x in '
            f'{ev["x"].min()}..{ev["x"].max()}, y in {ev["y"].min()}..'
            f'{ev["y"].max()})')
    if np.any(np.diff(ev['t']) < 0):
        ev = ev[np.argsort(ev['t'], kind='stable')]
    span = int(ev['t'][-1]) - int(ev['t'][0])
    if path.endswith('.bin') and span < MIN_NMNIST_SPAN_US:
        # a file cut at an event boundary reads without error
        warnings.warn(f'{path}: the recording spans {span / 1000:.0f} ms; '
                      f'N-MNIST recordings span about 300 ms (three '
                      f'saccades): is the file truncated?')
    return ev


def _record(job):
    path, scan, seed, kwargs = job
    write_bin(path, emulate(scan, seed=seed, **kwargs))


def write_event_digits(root, sensor_size=34, digit_size=28,
                       duration_us=300_000, contrast=0.25, noise_hz=0.5,
                       num=None, seed=0):
    """Record every digit of scikit-learn's set (or the first ``num``) with
    the emulator into ``root`` in the N-MNIST layout (one process per
    core; each recording seeded by its index, so the result does not
    depend on the number of processes)."""
    from concurrent.futures import ProcessPoolExecutor

    from sklearn.datasets import load_digits
    digits = load_digits()
    n = len(digits.target) if num is None else min(num, len(digits.target))
    kwargs = dict(sensor_size=sensor_size, digit_size=digit_size,
                  duration_us=duration_us, contrast=contrast,
                  noise_hz=noise_hz)
    jobs = []
    for i in range(n):
        d = osp.join(root, 'Test' if i % 5 == 0 else 'Train',
                     str(int(digits.target[i])))
        os.makedirs(d, exist_ok=True)
        jobs.append((osp.join(d, f'{i:05d}.bin'), digits.images[i],
                     seed * 100_003 + i, kwargs))
    workers = min(os.cpu_count() or 1, 8)
    if workers == 1 or n < 50:
        for job in jobs:
            _record(job)
        return
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_record, jobs, chunksize=16))


def ensure_event_digits(root, logger=print, **settings):
    """Build the embedded event digits at ``root`` unless an intact copy
    made with these settings is there (see the module docstring)."""
    from spikeformer_mm.datasets.digits import (ForeignDirectoryError,
                                                ensure_dataset,
                                                register_writer)
    register_writer('event_digits', write_event_digits)
    try:
        return ensure_dataset(root, 'event_digits', logger=logger,
                              **settings)
    except ForeignDirectoryError as e:
        raise ForeignDirectoryError(
            f'{e} If {root} is an N-MNIST dataset of your own (Train/, '
            f'Test/), read it as it is with build=None (--cfg-options '
            f'train_dataloader.dataset.build=None '
            f'val_dataloader.dataset.build=None '
            f'test_dataloader.dataset.build=None).') from None
