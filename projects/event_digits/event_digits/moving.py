"""The embedded event-detection demo: digits moving on a canvas, recorded
by this project's DVS emulator and written in Prophesee's Gen1 format, so
the demo runs through the real reader (``spikeformer_mm.datasets.gen1``).

Each recording (``duration_us``, 0.6 s) shows 1-2 of scikit-learn's digits
(upsampled to 24-36 px) moving at constant velocity (60-150 px/s, bouncing
off the canvas edges) on a ``size`` x ``size`` canvas; the emulator turns
the scene into ON/OFF events (2 ms steps). Boxes are labelled every
``label_every_us`` (50 ms), Gen1 fashion: each digit's square as ``x, y,
w, h`` and its value as ``class_id``; the evaluation's filter skips the
first 0.5 s, so each recording gives 3 label times (0.5, 0.55, 0.6 s):
many short recordings rather than few long ones, so that training sees
many digits (720 recordings, about 1,080 digits; on seed 0 from the static
classifier 160 recordings of 1 s for 4 epochs gave 0.568 mAP@0.5, 720 of
0.6 s for 3 epochs 0.618: docs/results/
event_detection_recipe_search_2026-12-07.json). A digit's square is
at least 24 px, so no box falls to the size filter (diagonal >= 30,
sides >= 10). Split as ``train``/``val`` folders of ``<name>_td.dat`` and
``<name>_bbox.npy``; every random draw from the recording's own seed.
"""
import os
import os.path as osp

import numpy as np

from .emulator import emulate_scene, upsample


def _scene(rng, digits, size, n_digits, speed_range):
    """Digit images, their start positions and velocities."""
    items = []
    for _ in range(n_digits):
        i = int(rng.integers(len(digits.target)))
        s = int(rng.integers(24, 37))
        img = upsample(digits.images[i], s)
        speed = rng.uniform(*speed_range)
        angle = rng.uniform(0, 2 * np.pi)
        items.append(dict(img=img, label=int(digits.target[i]), size=s,
                          pos=rng.uniform(0, size - s, 2),
                          vel=speed * np.array([np.cos(angle),
                                                np.sin(angle)])))
    return items


def _position(item, t_s, size):
    """(x, y) of a digit's top-left corner at ``t_s``, bouncing off the
    edges (a triangle wave over the free span)."""
    span = size - item['size']
    p = item['pos'] + item['vel'] * t_s
    p = np.mod(p, 2 * span)
    return np.where(p > span, 2 * span - p, p)


def _render(items, t_s, size, background=0.05):
    canvas = np.zeros((size, size))
    for it in items:
        x, y = np.round(_position(it, t_s, size)).astype(int)
        s = it['size']
        canvas[y:y + s, x:x + s] = np.maximum(canvas[y:y + s, x:x + s],
                                              it['img'])
    return background + (1 - background) * canvas


def record(seed, digits, size=96, duration_us=1_000_000,
           label_every_us=50_000, dt_us=1000, n_digits=None,
           speed_range=(60, 150)):
    """(events, boxes) of one recording: tonic's structured events and the
    Gen1 box array."""
    from spikeformer_mm.datasets.gen1 import BOX_DTYPE
    rng = np.random.default_rng(seed)
    n = n_digits or int(rng.integers(1, 3))
    items = _scene(rng, digits, size, n, speed_range)
    events = emulate_scene(lambda k: _render(items, k * dt_us * 1e-6, size),
                           (size, size), seed, duration_us, dt_us)
    rows = []
    for t in range(label_every_us, duration_us + 1, label_every_us):
        for track, it in enumerate(items):
            x, y = np.round(_position(it, t * 1e-6, size))
            rows.append((t, x, y, it['size'], it['size'], it['label'], 1.0,
                         track))
    return events, np.array(rows, BOX_DTYPE)


def write_moving_digits(root, size=96, num_train=720, num_val=160,
                        duration_us=600_000, label_every_us=50_000,
                        dt_us=2000, speed_range=(60, 150), seed=0):
    """Write the demo's recordings under ``root`` (``train``, ``val``)."""
    from sklearn.datasets import load_digits

    from spikeformer_mm.datasets.gen1 import write_dat
    digits = load_digits()
    for split, num, base in (('train', num_train, 0),
                             ('val', num_val, 1_000_000)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        for i in range(num):
            ev, boxes = record(seed * 10_000_019 + base + i, digits, size,
                               duration_us, label_every_us, dt_us,
                               speed_range=tuple(speed_range))
            name = osp.join(root, split, f'moving_digits_{i:04d}')
            write_dat(name + '_td.dat', ev, (size, size))
            np.save(name + '_bbox.npy', boxes)


def ensure_moving_digits(root, logger=print, **settings):
    """Build the demo's recordings at ``root`` unless an intact copy made
    with these settings is there (the digits datasets' manifest)."""
    from spikeformer_mm.datasets.digits import ensure_dataset, register_writer
    register_writer('moving_digits', write_moving_digits)
    return ensure_dataset(root, 'moving_digits', logger=logger, **settings)
