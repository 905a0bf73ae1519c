"""The embedded default data: scikit-learn's bundled handwritten digits.

``sklearn.datasets.load_digits`` ships 1,797 real 8x8 scans of the digits
0-9 (no download). This module writes them as image datasets in the layouts
of mmpretrain, and checks a copy before it is used:

* **split** (fixed, documented): sample ``i`` of ``load_digits()`` goes to
  ``val`` when ``i % 5 == 0`` and to ``train`` otherwise (1,437 / 360).
* **classification**: each scan upsampled (bilinear) to ``size`` x ``size``
  (default 32) grayscale PNG; an mmpretrain ``CustomDataset`` layout:
  ``images/{train,val}/NNNN.png`` and ``meta/{train,val}.txt`` with lines
  ``<split>/NNNN.png <label>``.
* **detection**: 96x96 canvases on which 1-3 digits of the split are
  scattered at random positions and sizes (24-40 px, boxes never overlap);
  COCO instance annotations (box, class, stroke mask as RLE) in
  ``annotations/{train,val}.json``, images in ``images/{train,val}/``.
* **segmentation**: 64x64 canvases of 1-2 digits (28-40 px, about the scale
  the classification demo learned) with a label map (0 background, 1 + digit)
  covering each digit's body, in mmseg's ``img_dir`` / ``ann_dir`` layout.

Canvases of the val split use only digits of the val split, so no scan
seen in training is ever evaluated on; every random draw is seeded.

Every dataset directory carries a ``MANIFEST.json`` with its parameters and
the sha256 of each file. :func:`ensure_dataset` rebuilds a copy that is
missing, partial, corrupt or made with other parameters; a build is written
to a temporary directory and renamed into place, so an interrupted build
never leaves a copy that looks valid.

Only a directory this module made (its manifest says so) is ever replaced:
a ``data_root`` that exists and holds anything else (a user's files, the
working directory) is refused with an error, never deleted. Within one
process, two datasets that use one ``data_root`` with different settings
are refused too (each would rebuild the folder under the other).
"""
import contextlib
import inspect
import json
import os
import os.path as osp
import shutil
import tempfile

import numpy as np

from ..fileio import file_lock
from ..fileio import sha256_file as _sha256

FORMAT_VERSION = 1
CLASSES = tuple(str(i) for i in range(10))
# One colour per digit (matplotlib's tab10: ten hues told apart at a glance),
# shared by the detection and segmentation sets (segmentation adds black
# for the background).
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
           (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
           (188, 189, 34), (23, 190, 207)]
MANIFEST = 'MANIFEST.json'


def load_digits_split():
    """Return ``{'train': (images, labels), 'val': (...)}``; images are
    ``uint8 [N, 8, 8]`` in 0..255."""
    from sklearn.datasets import load_digits
    d = load_digits()
    imgs = np.round(d.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    idx = np.arange(len(imgs))
    val = idx % 5 == 0
    return {'train': (imgs[~val], d.target[~val]),
            'val': (imgs[val], d.target[val])}




def _resize(img, size):
    from PIL import Image
    return np.asarray(Image.fromarray(img).resize((size, size),
                                                  Image.BILINEAR))


def _save_png(path, arr):
    from PIL import Image
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(arr).save(path)


def _write_classification(root, size=32):
    for split, (imgs, labels) in load_digits_split().items():
        lines = []
        for i, (img, y) in enumerate(zip(imgs, labels)):
            rel = f'{split}/{i:04d}.png'
            _save_png(osp.join(root, 'images', rel), _resize(img, size))
            lines.append(f'{rel} {int(y)}')
        os.makedirs(osp.join(root, 'meta'), exist_ok=True)
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')


def _scatter(rng, pool, size, n_range, scale_range, max_tries=50):
    """Place random digits of ``pool`` on a ``size`` x ``size`` black canvas
    with non-overlapping boxes. Returns (canvas, [(label, stroke_mask)])."""
    imgs, labels = pool
    canvas = np.zeros((size, size), np.uint8)
    placed, boxes = [], []
    for _ in range(int(rng.integers(n_range[0], n_range[1] + 1))):
        for _ in range(max_tries):
            s = int(rng.integers(scale_range[0], scale_range[1] + 1))
            x, y = (int(v) for v in rng.integers(0, size - s + 1, size=2))
            if all(x + s <= bx or bx + bs <= x or y + s <= by or by + bs <= y
                   for bx, by, bs in boxes):
                break
        else:
            continue
        i = int(rng.integers(len(imgs)))
        digit = _resize(imgs[i], s)
        mask = np.zeros((size, size), bool)
        mask[y:y + s, x:x + s] = digit > 96  # the strokes
        if mask.sum() < 4:
            continue
        canvas[y:y + s, x:x + s] = np.maximum(canvas[y:y + s, x:x + s], digit)
        boxes.append((x, y, s))
        placed.append((int(labels[i]), mask))
    return canvas, placed


def write_detection(root, size=96, num_train=800, num_val=160,
                     digits=(1, 3), scale=(24, 40), seed=0):
    """COCO instances: each digit a box, a class and its strokes as RLE."""
    from pycocotools import mask as mask_utils
    pools = load_digits_split()
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for k, (split, n) in enumerate((('train', num_train), ('val', num_val))):
        rng = np.random.default_rng([seed, k])
        images, anns = [], []
        for i in range(n):
            canvas, placed = _scatter(rng, pools[split], size, digits, scale)
            name = f'{split}/{i:05d}.png'
            _save_png(osp.join(root, 'images', name), canvas)
            images.append(dict(id=i, file_name=name, width=size, height=size))
            for label, m in placed:
                rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
                x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
                rle['counts'] = rle['counts'].decode('ascii')
                anns.append(dict(id=len(anns) + 1, image_id=i,
                                 category_id=label + 1, bbox=[x, y, w, h],
                                 area=float(m.sum()), segmentation=rle,
                                 iscrowd=0))
        cats = [dict(id=c + 1, name=CLASSES[c]) for c in range(10)]
        with open(osp.join(root, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=anns, categories=cats),
                      f)


def write_segmentation(root, size=64, num_train=4000, num_val=160,
                        digits=(1, 2), scale=(28, 40), dilate=2, seed=0):
    """mmseg layout: ``img_dir/{split}/N.png`` and ``ann_dir/{split}/N.png``
    with 0 = background and 1 + d for digit d. Labels cover the digit's body
    (strokes dilated by ``dilate`` pixels), not only its thin strokes."""
    from scipy.ndimage import binary_dilation
    pools = load_digits_split()
    for k, (split, n) in enumerate((('train', num_train), ('val', num_val))):
        rng = np.random.default_rng([seed, 10 + k])
        for i in range(n):
            canvas, placed = _scatter(rng, pools[split], size, digits, scale)
            label = np.zeros((size, size), np.uint8)
            for c, m in placed:
                if dilate:
                    m = binary_dilation(m, iterations=dilate)
                label[m & (label == 0)] = c + 1
            _save_png(osp.join(root, 'img_dir', split, f'{i:05d}.png'), canvas)
            _save_png(osp.join(root, 'ann_dir', split, f'{i:05d}.png'), label)


WRITERS = {
    'classification': _write_classification,
    'detection': write_detection,
    'segmentation': write_segmentation,
}


def register_writer(task, writer):
    """Let a project's data writer (``writer(root, **settings)``) use this
    module's builder: manifest with hashes and settings, atomic builds,
    rebuilds of broken or stale copies, foreign folders left alone."""
    old = WRITERS.get(task)
    if old is not None and (old.__module__, old.__qualname__) != (
            writer.__module__, writer.__qualname__):
        raise ValueError(f'a digits writer named {task!r} exists already '
                         f'({old.__module__}.{old.__qualname__})')
    WRITERS[task] = writer


def _settings(task, **kwargs):
    """The writer's settings for ``kwargs``, defaults included (ranges as
    lists, as the JSON manifest stores them)."""
    if task not in WRITERS:
        raise ValueError(f'unknown digits task {task!r}; one of '
                         f'{sorted(WRITERS)}')
    bound = inspect.signature(WRITERS[task]).bind('root', **kwargs)
    bound.apply_defaults()
    return {k: (list(v) if isinstance(v, tuple) else v)
            for k, v in bound.arguments.items() if k != 'root'}


def check_canvas(task, canvas):
    """Validate the generator settings a dataset config passes as ``canvas``
    and return them as keyword arguments of the task's writer."""
    if canvas is None:
        return {}
    if not isinstance(canvas, dict):
        raise TypeError(f'canvas must be a dict of {task} generator '
                        f'settings, got {type(canvas).__name__}')
    allowed = [n for n in inspect.signature(WRITERS[task]).parameters
               if n != 'root']
    unknown = sorted(set(canvas) - set(allowed))
    if unknown:
        raise KeyError(f'unknown {task} canvas setting(s) {unknown}; '
                       f'allowed: {allowed}')
    full = _settings(task, **canvas)
    for key in ('digits', 'scale'):
        lo, hi = full[key]
        if not 1 <= lo <= hi:
            raise ValueError(f'canvas {key} must be a range (lo, hi) '
                             f'with 1 <= lo <= hi, got {full[key]}')
    if full['scale'][1] > full['size']:
        raise ValueError(f"canvas scale {full['scale']} does not fit a "
                         f"canvas of size {full['size']}")
    return dict(canvas)


def _params(task, **kwargs):
    """Every setting the copy is made with, the writer's defaults included,
    so that a copy made with other defaults (an older release) is stale."""
    return dict(task=task, version=FORMAT_VERSION,
                **_settings(task, **kwargs))


GENERATOR = 'spikeformer_mm.datasets.digits'


class ForeignDirectoryError(FileExistsError):
    """A ``data_root`` that exists and was not made by this module."""


def _read_manifest(root):
    """The manifest of ``root`` if it is one this module wrote, else None."""
    try:
        with open(osp.join(root, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    params, files = manifest.get('params'), manifest.get('files')
    if not (isinstance(params, dict) and isinstance(files, dict)):
        return None
    ours = manifest.get('generator') == GENERATOR or (
        # written before the generator field: same structure, our tasks
        'generator' not in manifest and params.get('task') in WRITERS and
        'version' in params)
    return manifest if ours else None


def is_ours(root):
    """True if ``root`` is absent, empty, or a dataset this module made."""
    if not osp.exists(root):
        return True
    if osp.isdir(root) and not os.listdir(root):
        return True
    return osp.isdir(root) and _read_manifest(root) is not None


def dataset_digest(root):
    """One sha256 over the files a built copy holds (its manifest's table of
    per-file sha256, sorted), or None where ``root`` holds no manifest of
    ours. The same digest on two machines means their runs read the same
    bytes; run records keep it (``tools/run_demos.py --record``), so a
    figure that differs between CPUs can be told from data that differ."""
    import hashlib
    manifest = _read_manifest(root) if osp.isdir(root) else None
    if manifest is None:
        return None
    return hashlib.sha256(json.dumps(manifest['files'], sort_keys=True)
                          .encode()).hexdigest()


def verify_dataset(root, task, **kwargs):
    """Return None if ``root`` holds a complete, intact copy made with these
    parameters, else a sentence saying what is wrong."""
    mpath = osp.join(root, MANIFEST)
    if not osp.isdir(root):
        return f'{root} does not exist'
    if not osp.isfile(mpath):
        return f'{mpath} is missing (partial or foreign copy)'
    manifest = _read_manifest(root)
    if manifest is None:
        return f'{mpath} is not a manifest of this toolbox'
    files = manifest['files']
    if manifest.get('params') != _params(task, **kwargs):
        return (f'{root} was made with other parameters '
                f'({manifest.get("params")})')
    for rel, digest in files.items():
        p = osp.join(root, rel)
        if not osp.isfile(p):
            return f'{p} is missing'
        if _sha256(p) != digest:
            return f'{p} is corrupt (checksum mismatch)'
    return None


def _files_not_ours(root):
    """Files under the dataset folder ``root`` that its manifest does not
    list (a user's notes...), relative to ``root``."""
    manifest = _read_manifest(root) if osp.isdir(root) else None
    if manifest is None:
        return []
    ours = set(manifest['files']) | {MANIFEST}
    return sorted(osp.relpath(osp.join(d, n), root)
                  for d, _, names in os.walk(root) for n in names
                  if osp.relpath(osp.join(d, n), root) not in ours)


def build_dataset(root, task, **kwargs):
    """Write the dataset ``task`` to ``root`` (atomically replacing it)."""
    if task not in WRITERS:
        raise ValueError(f'unknown digits task {task!r}; one of '
                         f'{sorted(WRITERS)}')
    root = osp.abspath(root)
    if not is_ours(root):
        raise ForeignDirectoryError(
            f'{root} exists and is not a digits dataset made by '
            f'spikeformer_mm (no {MANIFEST} of ours): refusing to replace '
            f'it. Point data_root at a new or empty directory, or remove '
            f'this one yourself.')
    theirs = _files_not_ours(root)
    if theirs:
        raise ForeignDirectoryError(
            f'{root} must be rebuilt, but it holds files this toolbox did '
            f'not write ({", ".join(theirs[:5])}'
            f'{" ..." if len(theirs) > 5 else ""}): refusing to replace it, '
            f'nothing was changed. Move them elsewhere first.')
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=osp.basename(root) + '.tmp-', dir=parent)
    try:
        WRITERS[task](tmp, **kwargs)
        files = {}
        for d, _, names in os.walk(tmp):
            for n in sorted(names):
                p = osp.join(d, n)
                files[osp.relpath(p, tmp)] = _sha256(p)
        with open(osp.join(tmp, MANIFEST), 'w') as f:
            json.dump(dict(generator=GENERATOR,
                           params=_params(task, **kwargs), files=files), f,
                      indent=0, sort_keys=True)
        old = None
        if osp.exists(root):
            old = tempfile.mkdtemp(prefix=osp.basename(root) + '.old-',
                                   dir=parent)
            os.rmdir(old)
            os.rename(root, old)
        os.rename(tmp, root)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root


# data_root -> settings of the datasets this process has opened there
_IN_USE = {}


def _differ(a, b):
    return ', '.join(sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k)))


def _claims_dir(root):
    """Where the processes using ``root`` record their settings (hidden,
    beside it)."""
    return osp.join(osp.dirname(root), f'.{osp.basename(root)}.claims')


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release_claim(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _claim_across_processes(root, params):
    """Record that this process uses ``root`` with ``params``; refuse, naming
    the other process and the settings that differ, when a live process
    uses it with other settings (each would rebuild the folder under the
    other). Claims of processes that are gone are removed. Called under the
    folder's lock."""
    import atexit
    from ..fileio import write_json
    d = _claims_dir(root)
    os.makedirs(d, exist_ok=True)
    mine = osp.join(d, f'{os.getpid()}.json')
    for name in os.listdir(d):
        pid = name.split('.')[0]
        path = osp.join(d, name)
        if not (name.endswith('.json') and pid.isdigit()) or path == mine:
            continue
        if not _alive(int(pid)):
            _release_claim(path)
            continue
        try:
            with open(path) as f:
                other = json.load(f)
        except (OSError, ValueError):
            continue  # being written or removed
        if other != params:
            theirs = {k: other.get(k) for k in sorted(set(other) | set(params))
                      if other.get(k) != params.get(k)}
            raise ValueError(
                f'data_root {root} is in use by process {pid} with other '
                f'settings (there: {theirs}): building it here would replace '
                f'its data under it. Give each setting its own data_root, or '
                f'wait for that process to end.')
    if not osp.exists(mine):
        write_json(mine, params)
        atexit.register(_release_claim, mine)


def _claim(root, task, kwargs):
    params = _params(task, **kwargs)
    key = osp.realpath(root)
    other = _IN_USE.setdefault(key, params)
    if other != params:
        raise ValueError(
            f'data_root {root} is already used in this run by a {other["task"]}'
            f' dataset with other settings ({_differ(params, other)} differ): '
            f'each would rebuild the folder under the other. Give each '
            f'setting its own data_root.')


@contextlib.contextmanager
def _locked(root):
    """The folder's lock file (beside it), held exclusively."""
    with file_lock(osp.abspath(root) + '.lock'):
        yield


def ensure_dataset(root, task, logger=print, **kwargs):
    """Build ``root`` if it is absent, partial, corrupt or stale; refuse a
    ``root`` that holds files this module did not write, or that another
    live process uses with other settings."""
    _claim(root, task, kwargs)
    root = osp.abspath(root)
    with _locked(root):
        _claim_across_processes(root, _params(task, **kwargs))
    if verify_dataset(root, task, **kwargs) is None:
        return root
    if not is_ours(osp.abspath(root)):
        raise ForeignDirectoryError(
            f'{osp.abspath(root)} exists and is not a digits dataset made by '
            f'spikeformer_mm (no {MANIFEST} of ours): refusing to build '
            f'there, nothing was changed. Point data_root at a new or empty '
            f'directory.')
    # One builder at a time (distributed ranks, dataloader workers): the
    # others wait on the lock, then find the finished copy.
    with _locked(root):
        problem = verify_dataset(root, task, **kwargs)
        if problem is None:
            return root
        if osp.exists(root):
            logger(f'digits {task} data: {problem}; rebuilding {root}')
        else:
            logger(f'digits {task} data: building {root}')
        return build_dataset(root, task, **kwargs)
