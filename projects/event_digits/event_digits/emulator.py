"""An event camera in front of a still digit, the way N-MNIST was recorded.

Orchard et al. (2015) put an ATIS sensor on a pan-tilt unit in front of a
screen showing an MNIST digit and made three saccades (~100 ms each, along
a triangle); each pixel reports an ON or OFF event whenever its log
intensity has changed by a contrast threshold since its last event. This
module does the same in software for scikit-learn's bundled 8x8 digits:

* the scan is upsampled to ``digit_size`` px (28, as MNIST) and shown on a
  ``sensor_size`` x ``sensor_size`` sensor (34, as N-MNIST);
* the sensor moves along a three-saccade triangle (``SACCADES``), sampled
  every ``dt_us`` microseconds (bilinear sub-pixel shifts);
* the pixel model (a DVS model as in the v2e / ESIM emulators, simplified):
  log intensity ``L = log(I + eps)``; a pixel fires ON (OFF) when
  ``L - L_ref >= C_on`` (``<= -C_off``), ``n`` events for ``n`` thresholds
  crossed in one step, spread over the step; ``L_ref`` moves by the
  thresholds crossed; the thresholds of each pixel differ by a Gaussian
  mismatch; a pixel is silent for ``refractory_us`` after an event;
  background activity adds Poisson noise events;
* timestamps are integer microseconds, events sorted by time; every random
  draw comes from ``numpy.random.default_rng(seed)``.

Events are tonic's structured array (``x``, ``y``, ``t``, ``p``;
``tonic.io.make_structured_array`` dtype).
"""
from typing import Callable, Optional

import numpy as np
from scipy import ndimage

# tonic's event dtype (x, y: pixel; t: microseconds; p: 1 ON, 0 OFF)
EVENT_DTYPE = np.dtype([('x', np.int16), ('y', np.int16), ('t', np.int64),
                        ('p', bool)])
# the triangle the sensor moves along (pixels, relative to centred):
# three saccades of one third of the duration each
SACCADES = ((-2.0, 2.0), (2.0, 2.0), (0.0, -2.0), (-2.0, 2.0))


def upsample(scan: np.ndarray, size: int) -> np.ndarray:
    """A 0..16 digit scan -> ``size`` x ``size`` intensities in [0, 1]."""
    img = np.asarray(scan, np.float64) / 16.0
    return np.clip(ndimage.zoom(img, size / img.shape[0], order=1), 0, 1)


def saccade_offsets(n_steps: int) -> np.ndarray:
    """``[n_steps, 2]`` (dx, dy) sensor offsets along the triangle."""
    s = np.linspace(0, len(SACCADES) - 1, n_steps)
    i = np.minimum(s.astype(int), len(SACCADES) - 2)
    f = (s - i)[:, None]
    pts = np.asarray(SACCADES)
    return pts[i] * (1 - f) + pts[i + 1] * f


def render(image: np.ndarray, sensor_size: int, dx: float, dy: float,
           background: float = 0.05) -> np.ndarray:
    """The scene seen by the sensor: ``image`` centred, shifted by
    ``(dx, dy)`` pixels (bilinear), on a dim background."""
    canvas = np.zeros((sensor_size, sensor_size))
    o = (sensor_size - image.shape[0]) // 2
    canvas[o:o + image.shape[0], o:o + image.shape[1]] = image
    canvas = ndimage.shift(canvas, (dy, dx), order=1, mode='constant')
    return background + (1 - background) * np.clip(canvas, 0, 1)


def emulate(scan: np.ndarray, seed: int, sensor_size: int = 34,
            digit_size: int = 28, duration_us: int = 300_000,
            dt_us: int = 1000, contrast: float = 0.25,
            mismatch: float = 0.03, refractory_us: int = 1000,
            noise_hz: float = 0.5, eps: float = 1e-3,
            image: Optional[np.ndarray] = None) -> np.ndarray:
    """Events of a three-saccade recording of ``scan`` (or of ``image``,
    intensities in [0, 1], if given); tonic's structured array, sorted."""
    img = upsample(scan, digit_size) if image is None else image
    offsets = saccade_offsets(duration_us // dt_us + 1)
    return emulate_scene(
        lambda k: render(img, sensor_size, *offsets[k]),
        (sensor_size, sensor_size), seed, duration_us, dt_us, contrast,
        mismatch, refractory_us, noise_hz, eps)


def emulate_scene(scene: Callable[[int], np.ndarray], shape: tuple,
                  seed: int, duration_us: int, dt_us: int = 1000,
                  contrast: float = 0.25, mismatch: float = 0.03,
                  refractory_us: int = 1000, noise_hz: float = 0.5,
                  eps: float = 1e-3) -> np.ndarray:
    """The pixel model (module docstring) in front of any scene:
    ``scene(k)`` is the intensity image (``shape`` = (height, width),
    values in [0, 1]) at step ``k`` (time ``k * dt_us``), ``k`` from 0 to
    ``duration_us // dt_us``; tonic's structured array, sorted."""
    rng = np.random.default_rng(seed)
    n_steps = duration_us // dt_us
    c_on = contrast * (1 + mismatch * rng.standard_normal(shape))
    c_off = contrast * (1 + mismatch * rng.standard_normal(shape))
    ref = np.log(scene(0) + eps)
    last = np.full(shape, -refractory_us, np.int64)
    xs, ys, ts, ps = [], [], [], []
    for k in range(1, n_steps + 1):
        t0 = (k - 1) * dt_us
        log_i = np.log(scene(k) + eps)
        diff = log_i - ref
        ready = (t0 - last) >= refractory_us
        for pol, thr in ((1, c_on), (0, c_off)):
            n = np.floor((diff if pol else -diff) / thr).astype(int)
            n[~ready] = 0
            yy, xx = np.nonzero(n > 0)
            if not len(yy):
                continue
            counts = n[yy, xx]
            for j in range(counts.max()):
                sel = counts > j
                # the j-th crossing of the step, spread over the step
                t = t0 + ((j + 1) * dt_us) // (counts[sel] + 1)
                xs.append(xx[sel])
                ys.append(yy[sel])
                ts.append(t)
                ps.append(np.full(int(sel.sum()), pol, bool))
            step = np.where(n > 0, n * thr, 0.0)
            ref = ref + (step if pol else -step)
            last[yy, xx] = t0 + dt_us
    # background activity: Poisson events, random polarity
    n_noise = rng.poisson(noise_hz * shape[0] * shape[1] * duration_us *
                          1e-6)
    xs.append(rng.integers(0, shape[1], n_noise))
    ys.append(rng.integers(0, shape[0], n_noise))
    ts.append(rng.integers(0, duration_us, n_noise))
    ps.append(rng.integers(0, 2, n_noise).astype(bool))
    ev = np.empty(sum(len(a) for a in xs), EVENT_DTYPE)
    ev['x'], ev['y'] = np.concatenate(xs), np.concatenate(ys)
    ev['t'], ev['p'] = np.concatenate(ts), np.concatenate(ps)
    return ev[np.argsort(ev['t'], kind='stable')]
