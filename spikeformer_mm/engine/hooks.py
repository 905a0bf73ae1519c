"""Training hooks of spikeformer_mm."""
import math
from typing import Optional

import torch
from mmengine.hooks import Hook

from ..registry import HOOKS


def non_finite_tensors(state_dict: dict) -> list:
    """Names of the floating-point tensors of ``state_dict`` holding NaN or
    infinity.

    All finite is found with one fused call per dtype: the L2 norm of a
    tensor (``torch._foreach_norm``) that holds NaN or infinity is not
    finite (it may also overflow for a finite tensor of huge values, a case
    the exact check below then clears); only if a norm is not finite are
    the tensors checked one by one, for their names. One check per tensor
    cost 8.4 ms per iteration on the demo classifier's 825 tensors (2-core
    CPU), about a twentieth of its training step at T=1; this, 3.4 ms with
    the state_dict it is given."""
    floats = {k: v for k, v in state_dict.items() if torch.is_tensor(v) and
              v.is_floating_point() and v.numel()}
    by_type = {}
    for v in floats.values():
        by_type.setdefault((v.dtype, v.device), []).append(v)
    if all(bool(torch.isfinite(torch.stack(
            torch._foreach_norm(ts, 2))).all())
           for ts in by_type.values()):
        return []
    return [k for k, v in floats.items() if not bool(torch.isfinite(v).all())]


def _listing(names, n=5):
    return f'{len(names)} tensors, first: {names[:n]}'


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Stop training when the loss or the weights stop being finite, saying
    where, and never save a checkpoint that holds NaN or infinity.

    After every ``interval`` iterations it checks the loss terms and every
    parameter and buffer of the model (BatchNorm statistics included): a
    spiking network can go NaN in its weights while its loss stays finite
    (a neuron turns a NaN membrane into "no spike", so NaN never reaches
    the loss). mmdet's ``CheckInvalidLossHook`` asserts on the total loss
    only. Before any checkpoint is written it checks the checkpoint's
    weights too, so ``last_checkpoint`` never names a non-finite file; the
    run then stops with an error naming the loss terms, the tensors, the
    epoch and iteration (checkpoints written before stay as they are: they
    were finite).

    Spiking backbones are prone to this when a neuron stays silent: the
    BatchNorm after it sees all-zero inputs and its backward overflows
    (see ``attn_scale`` of ``MetaSpikeFormer``).

    Args:
        interval (int): check every ``interval`` iterations. Defaults to 1.
    """
    priority = 'VERY_HIGH'

    def __init__(self, interval=1):
        self.interval = interval

    @staticmethod
    def _model(runner):
        return runner.model.module if hasattr(runner.model, 'module') \
            else runner.model

    def _where(self, runner):
        return f'epoch {runner.epoch + 1}, iteration {runner.iter + 1}'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        bad = []
        for name, value in (outputs or {}).items():
            v = float(value.detach().float().mean()) if torch.is_tensor(
                value) else float(value)
            if not math.isfinite(v):
                bad.append(f'{name}={v}')
        tensors = non_finite_tensors(self._model(runner).state_dict())
        if not bad and not tensors:
            return
        what = (f'non-finite loss at {self._where(runner)} '
                f'({", ".join(bad)})' if bad else
                f'non-finite weights at {self._where(runner)}, with a '
                f'finite loss')
        where = (f'non-finite parameters/buffers in {_listing(tensors)}'
                 if tensors else 'all parameters still finite')
        raise RuntimeError(
            f'NaNGuardHook: {what}; {where}. No checkpoint of these weights '
            'was written. Lower the learning rate, clip gradients, or check '
            'the inputs.')

    def before_save_checkpoint(self, runner, checkpoint):
        tensors = non_finite_tensors(checkpoint.get('state_dict') or {})
        if tensors:
            raise RuntimeError(
                f'NaNGuardHook: refusing to save a checkpoint at '
                f'{self._where(runner)}: non-finite weights in '
                f'{_listing(tensors)}')


def reseed(seed: int, *key: int) -> None:
    """Seed python's, numpy's and torch's (every device's) random states
    from ``seed`` and ``key`` (an epoch or a batch number), through numpy's
    ``SeedSequence``: different keys give independent streams."""
    import random

    import numpy as np
    state = np.random.SeedSequence([seed, *key]).generate_state(2)
    random.seed(int(state[0]))
    np.random.seed(int(state[1]))
    torch.manual_seed(int(state[0]) << 32 | int(state[1]))


class _ReseedingIterator:
    """An iteration-based loop's data iterator that reseeds before fetching
    batch ``k`` (counted from 0): batch k's random transforms, and the
    iteration that uses it, start from a state of (seed, k) alone. On
    resume mmengine fetches the batches already trained again to skip
    them; each is reseeded as it was, so the first new batch is too."""

    def __init__(self, iterator, seed):
        self.iterator, self.seed, self.fetched = iterator, seed, 0

    def __iter__(self):
        return self

    def __next__(self):
        reseed(self.seed, 1, self.fetched)
        self.fetched += 1
        return next(self.iterator)


@HOOKS.register_module()
class ResumableRandomnessHook(Hook):
    """Make a resumed run equal the uninterrupted one (on one machine).

    mmengine saves the seed in a checkpoint and, on ``--resume``, reseeds
    from it as at the start of the run: the random states of python, numpy
    and torch (shuffling, augmentation, dropout, drop path) restart where
    the first run began, not where it stopped, so the resumed run draws
    other numbers from its first iteration on. Saving the states in the
    checkpoint would not be enough either: the checkpoint is written
    before the validation that follows it, which draws from them too.
    Instead, the random state at the start of each epoch (epoch-based
    loops) or before each batch is fetched (iteration-based loops) is made
    a function of the run's seed and that number alone, so a run resumed
    at any checkpoint continues with the numbers the uninterrupted run
    drew. Loader processes that persist across epochs keep their own
    random state, which no checkpoint holds: with
    ``persistent_workers=True`` and ``num_workers > 0`` a resumed run
    warns that its augmentations differ (the digits configs do not
    persist their workers).
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner):
        loader = runner.train_loop.dataloader
        if getattr(runner, '_has_loaded', False) and \
                getattr(loader, 'persistent_workers', False) and \
                getattr(loader, 'num_workers', 0) > 0:
            from mmengine.logging import print_log
            print_log('ResumableRandomnessHook: train_dataloader has '
                      'persistent_workers=True: its loader processes keep '
                      'random states no checkpoint holds, so this resumed '
                      'run\'s augmentations differ from the uninterrupted '
                      'run\'s (set persistent_workers=False for an equal '
                      'run)', logger='current', level=30)

    def before_train_epoch(self, runner):
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based
            if not isinstance(loop.dataloader_iterator, _ReseedingIterator):
                loop.dataloader_iterator = _ReseedingIterator(
                    loop.dataloader_iterator, runner.seed)
        else:
            reseed(runner.seed, 0, runner.epoch)


def _seg_datasets(dataset):
    """The mmseg data sets inside ``dataset`` (through mmengine's and
    mmseg's wrappers: ``dataset`` / ``datasets`` attributes); none, and
    nothing imported, when mmseg is not loaded (a classifier's run)."""
    import sys
    if 'mmseg.datasets' not in sys.modules:
        return []
    from mmseg.datasets import BaseSegDataset
    if isinstance(dataset, BaseSegDataset):
        return [dataset]
    inner = getattr(dataset, 'datasets', None) or (
        [dataset.dataset] if hasattr(dataset, 'dataset') else [])
    return [d for x in inner for d in _seg_datasets(x)]


def labels_outside_classes(dataset, max_maps: int = 500) -> Optional[str]:
    """A sentence naming the label maps of an mmseg data set that hold
    labels outside its classes (after its ``reduce_zero_label`` and
    ``label_map``, as mmseg's ``LoadAnnotations`` reads them) other than its
    ignore index, or None; the first ``max_maps`` maps are read."""
    import numpy as np
    from PIL import Image
    n = len(dataset.metainfo.get('classes') or ())
    ignore = getattr(dataset, 'ignore_index', 255)
    if not n:
        return None
    label_map = dataset.metainfo.get('label_map') or {}
    reduce_zero = dataset.metainfo.get('reduce_zero_label', False)
    count = min(len(dataset), max_maps)
    bad, files = set(), []
    for i in range(count):
        path = dataset.get_data_info(i).get('seg_map_path')
        if not path:
            continue
        try:
            seg = np.array(Image.open(path))
        except OSError:
            continue  # unreadable: its loader names it
        vals = np.unique(seg).astype(np.int64)
        if reduce_zero:
            vals = np.where(vals == 0, ignore, vals - 1)
            vals = np.where(vals == 254, ignore, vals)
        if label_map:
            vals = np.array([label_map.get(int(v), v) for v in vals])
        out = [int(v) for v in vals if not (0 <= v < n or v == ignore)]
        if out:
            bad.update(out)
            files.append(path)
    if not files:
        return None
    return (f'labels {sorted(bad)} in {len(files)} of the {count} label maps '
            f'read (first: {files[0]}) are outside the {n} classes '
            f'(0..{n - 1}) and not the ignore index {ignore}: mmseg\'s '
            f'IoUMetric leaves those pixels out of the score silently and '
            f'the loss fails on them. Fix the maps, or refuse them with '
            f'dict(type=\'spikeformer_mm.CheckSegSample\', num_classes={n}) '
            f'after LoadAnnotations')


@HOOKS.register_module()
class SegLabelCheckHook(Hook):
    """Warn when a segmentation data set holds labels outside its classes,
    whatever its pipeline: at the start of training, validation and
    testing, the first ``max_maps`` label maps of each loader's mmseg data
    set are read (about 1 ms each for the digits' 64x64 maps). mmseg would
    score such pixels silently (its IoUMetric leaves them out) and fail deep
    in the loss on them; ``CheckSegSample`` in a pipeline refuses them per
    sample. Other data sets are left alone."""

    def __init__(self, max_maps: int = 500):
        self.max_maps, self.seen = max_maps, set()

    def _check(self, runner, loop):
        loop = getattr(runner, loop, None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if dataset is None:
            return
        from mmengine.logging import print_log
        for ds in _seg_datasets(dataset):
            if id(ds) in self.seen:
                continue
            self.seen.add(id(ds))
            said = labels_outside_classes(ds, self.max_maps)
            if said:
                print_log(f'SegLabelCheckHook: {type(ds).__name__}: {said}',
                          logger='current', level=30)

    def before_train(self, runner):
        self._check(runner, 'train_loop')

    def before_val(self, runner):
        self._check(runner, 'val_loop')

    def before_test(self, runner):
        self._check(runner, 'test_loop')


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Train and test in the ``channels_last`` (NHWC) memory format.

    Before the run, every 4-D weight of the model (backbone, neck, heads) is
    converted in place (the optimizer keeps the same parameter objects; its
    state is created in the same layout). The backbone converts its input
    once (``MetaSpikeFormer._match_weights``), and its neurons, convs, MLPs
    and attention keep NHWC from layer to layer, which is the fast layout of
    oneDNN's convolutions on CPUs, in bf16 above all (docs/speed.md). Saved
    checkpoints load into NCHW models as usual. ``tools/train.py
    --channels-last`` adds this hook.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        model.to(memory_format=torch.channels_last)


@HOOKS.register_module()
class SpikeVisHook(Hook):
    """Pictures of the spikes at validation time: on the first validation
    batch of every ``interval``-th validation, the spike maps, firing rates
    and raster of the first sample (:func:`spikeformer_mm.visualization.
    spike_pictures`) go to every backend of the runner's visualizer
    (``vis_backends``: the work dir's ``vis_data/`` with mmengine's
    ``LocalVisBackend``; TensorBoard with ``TensorboardVisBackend``) as
    ``spikes_<name>``, and are written to ``<work_dir>/spike_maps/<step>/``.

    Args:
        interval (int): every ``interval`` validations. Defaults to 1.
        stages (Sequence[int], optional): stages to draw (default: all).
        channels (int): single channels drawn per stage and step.
    """
    priority = 'LOW'

    def __init__(self, interval=1, stages=None, channels=4):
        self.interval, self.stages, self.channels = interval, stages, channels
        self._recorder = None
        self._count = 0

    def before_val_epoch(self, runner):
        from ..analysis.spike_maps import SpikeRecorder
        self._count += 1
        if (self._count - 1) % self.interval == 0:
            model = runner.model.module if hasattr(runner.model, 'module') \
                else runner.model
            self._recorder = SpikeRecorder(model, self.stages).__enter__()

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None):
        if self._recorder is None:
            return
        import os.path as osp

        from ..visualization import save_picture, spike_pictures
        rec, self._recorder = self._recorder, None
        rec.__exit__(None, None, None)
        image = None
        inputs = (data_batch or {}).get('inputs')
        if isinstance(inputs, (list, tuple)) and inputs and \
                torch.is_tensor(inputs[0]) and inputs[0].dim() == 3:
            image = inputs[0].permute(1, 2, 0).cpu().numpy()  # an image
            image = image[..., :3] if image.shape[-1] >= 3 else \
                image[..., [0] * 3]
        step = runner.epoch or runner.iter  # epoch- or iteration-based
        out = osp.join(runner.work_dir, 'spike_maps', str(step))
        for name, img in spike_pictures(rec.spikes, image,
                                        self.channels).items():
            runner.visualizer.add_image(f'spikes_{name}', img, step=step)
            save_picture(img, osp.join(out, f'{name}.png'))

    def after_val_epoch(self, runner, metrics=None):
        if self._recorder is not None:  # no batch came
            self._recorder.__exit__(None, None, None)
            self._recorder = None
