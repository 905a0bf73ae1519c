"""Strict loading: weights that do not fit are refused by the model itself,
whichever loader loads them.

mmengine's ``load_checkpoint`` (behind mmdet's ``init_detector``, mmseg's
``init_model``, mmpretrain's ``get_model`` and inferencers, ``load_from``,
``--resume`` and ``init_cfg``) only warns about missing, unexpected or
reshaped tensors and leaves those layers random: a detector evaluated with
random heads prints plausible-looking numbers. torch calls a module's
load-state-dict pre-hooks whichever loader runs, so the check is one:

* :func:`require_complete_weights` makes one module refuse weights that lack
  one of its tensors or give one another shape (the backbone, the necks and
  heads of this toolbox call it on themselves);
* :func:`guard_models_of` extends it to the whole model: any module that
  takes one of the registered backbones as its ``backbone`` (mmpretrain's
  ``ImageClassifier``, mmdet's detectors, mmseg's segmentors, a model of
  yours) refuses a checkpoint with a tensor missing, left over or reshaped
  anywhere in it (mmdet/mmseg heads, decode heads, necks, the data
  preprocessor's persistent buffers), through torch's module-registration
  hook (``torch.nn.modules.module.register_module_module_registration_hook``:
  the backbone cannot see its parent, and mm builds the parent with no hook
  of ours);
* :func:`lenient_loading` is the explicit opt-out (``--non-strict``).
"""
import contextlib
import contextvars
import os.path as osp
import weakref
from typing import Iterator, Optional, Sequence, Type

import torch
import torch.nn as nn


class IncompleteWeightsError(ValueError):
    """Weights loaded into a model or module of this toolbox lack some of
    its tensors, hold tensors it does not have, or give them other shapes
    (another task's, arch's or deploy form's checkpoint): refused instead of
    computing from random layers."""


# True inside lenient_loading(); a ContextVar, so an opt-out in one thread
# (or asyncio task) does not turn the check off in another
_LENIENT: contextvars.ContextVar = contextvars.ContextVar(
    'spikeformer_mm_lenient_loading', default=False)
# the checkpoint file read last in this context and its keys and shapes:
# an error names the file only for weights that are that file's
_LAST_FILE: contextvars.ContextVar = contextvars.ContextVar(
    'spikeformer_mm_last_checkpoint_file', default=(None, None))


@contextlib.contextmanager
def lenient_loading() -> Iterator[None]:
    """The explicit opt-out of :func:`require_complete_weights`: inside
    this block, modules load partial or mismatched weights as torch and
    mmengine do (``--non-strict`` of the tools)."""
    token = _LENIENT.set(True)
    try:
        yield
    finally:
        _LENIENT.reset(token)


def _signature(key: str, value) -> tuple:
    k = key[len('module.'):] if key.startswith('module.') else key
    return k, tuple(value.shape) if torch.is_tensor(value) else None


def note_checkpoint_file(path: str, checkpoint) -> None:
    """Record ``checkpoint`` as read from ``path`` (the toolbox's loaders
    call it), so that a refusal to load its weights can name the file."""
    sd = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    keys = frozenset(_signature(k, v) for k, v in sd.items()) \
        if isinstance(sd, dict) else frozenset()
    _LAST_FILE.set((path, keys))


def _file_of(state_dict: dict) -> Optional[str]:
    """The file :func:`note_checkpoint_file` recorded, if every tensor of
    ``state_dict`` (by key and shape; copies too, as mmengine's EMAHook
    loads) is one of that file's: other weights get no file name."""
    path, keys = _LAST_FILE.get()
    if not path or not keys or not state_dict:
        return None
    return path if all(_signature(k, v) in keys
                       for k, v in state_dict.items()) else None


def fits_loaded_shape(saved: torch.Tensor, own: torch.Tensor) -> bool:
    """Same shape, or the shape of a layer that adds trailing unit axes on
    loading (the paper's ``[out, in, 1]`` Conv1d weights of the MLP, which
    ``SpikingMLP`` loads as ``[out, in, 1, 1]``)."""
    s, o = tuple(saved.shape), tuple(own.shape)
    return s == o or (len(s) < len(o) and o[:len(s)] == s
                      and all(d == 1 for d in o[len(s):]))


def _listing(keys: Sequence[str], n: int = 5) -> str:
    more = f' and {len(keys) - n} more' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def mismatch(own: dict, state_dict: dict, prefix: str = '',
             tolerate: Sequence[str] = ()) -> dict:
    """What does not fit when ``state_dict`` (keys under ``prefix``) is
    loaded into a module whose own state is ``own``: ``{'missing': [...],
    'unexpected': [...], 'shapes': [...]}`` (names relative to the module;
    ``num_batches_tracked`` and ``tolerate`` left out). The one rule of
    strict loading: the modules' pre-hooks and
    :func:`spikeformer_mm.checkpoint.load_weights` use it."""
    tolerate = set(tolerate)
    found = dict(missing=[], unexpected=[], shapes=[])
    for k, v in own.items():
        if k in tolerate or k.endswith('num_batches_tracked'):
            continue
        got = state_dict.get(prefix + k)
        if got is None:
            found['missing'].append(k)
        elif torch.is_tensor(got) and not fits_loaded_shape(got, v):
            found['shapes'].append(f'{k} {tuple(got.shape)} vs '
                                   f'{tuple(v.shape)}')
    found['unexpected'] = sorted(
        k[len(prefix):] for k in state_dict if k.startswith(prefix)
        and k[len(prefix):] not in own
        and not k.endswith('num_batches_tracked')
        and k[len(prefix):] not in tolerate)
    return found


def describe(found: dict, total: int) -> str:
    """The phrases of :func:`mismatch`'s ``found`` (``total``: how many
    tensors the module has), ``''`` when it all fits."""
    parts = []
    if found.get('missing'):
        parts.append(f'{len(found["missing"])} of its {total} tensors are '
                     f'missing ({_listing(found["missing"])})')
    if found.get('unexpected'):
        parts.append(f'{len(found["unexpected"])} tensors are not in it '
                     f'({_listing(found["unexpected"])})')
    if found.get('shapes'):
        parts.append(f'{len(found["shapes"])} have other shapes '
                     f'({"; ".join(found["shapes"][:3])})')
    return '; '.join(parts)


def adapt_input_channels(module: nn.Module, key: str) -> None:
    """Make ``module``, when weights are loaded into it, take the conv
    kernel ``key`` (``[out, in, kh, kw]``, relative to ``module``) with
    another input-channel count by summing it over its input channels and
    repeating that for each of its own: a gray or RGB image model's first
    conv, applied to every polarity channel of an event model, so their
    sum (the event count) is filtered as the gray image was. (timm's
    ``adapt_input_conv`` sums so for one channel; it is not a dependency
    here.) A kernel of another size or width is left to the strict check,
    which names it. The key stays tolerated by a whole model's check
    (:func:`guard_models_of`), which runs before this adaptation."""
    def adapt(module, state_dict, prefix, *args):
        name, own = prefix + key, module.get_parameter(key)
        w = state_dict.get(name)
        if (w is None or w.shape == own.shape or w.dim() != 4
                or w.shape[0] != own.shape[0] or w.shape[2:] != own.shape[2:]):
            return
        state_dict[name] = w.sum(1, keepdim=True).repeat(
            1, own.shape[1], 1, 1)

    module._register_load_state_dict_pre_hook(adapt, with_module=True)
    module.adapted_load_keys = (*getattr(module, 'adapted_load_keys', ()),
                                key)


def require_complete_weights(module: nn.Module, who: str,
                             tolerate: Sequence[str] = (),
                             unexpected: bool = True) -> None:
    """Make ``module`` refuse, whichever loader calls it (torch's
    ``load_state_dict``, mmengine's ``load_checkpoint``), weights that lack
    one of its tensors, hold tensors it does not have (``unexpected``) or
    give one another shape: an
    :class:`IncompleteWeightsError` naming the first of them and the
    checkpoint file read last. ``tolerate``: names (relative to ``module``)
    that may be missing or differ, keeping their initialisation;
    :func:`lenient_loading` turns the check off."""
    tolerate = tuple(tolerate)

    def check(module, state_dict, prefix, *args):
        # the module is passed in (with_module): a deep copy (an EMA model,
        # a deployed copy) checks itself, not the module it was copied from
        if _LENIENT.get():
            return
        own = module.state_dict()
        # a part that checks itself does so after its own key upgrades
        # (SpikeToDense's older list form): leave it to that check
        inner = tuple(f'{n}.' for n, m in module.named_modules()
                      if n and getattr(m, '_checks_own_weights', False))
        own = {k: v for k, v in own.items() if not k.startswith(inner)}
        sub = {k: v for k, v in state_dict.items()
               if not k[len(prefix):].startswith(inner)}
        found = mismatch(own, sub, prefix, tolerate)
        if not unexpected:
            found['unexpected'] = []
        text = describe(found, len(own))
        if text:
            path = _file_of(state_dict)
            src = f' from {osp.basename(path)} ({path})' if path else ''
            raise IncompleteWeightsError(
                f'{who} ({prefix or "the model"}): the weights loaded into '
                f'it{src} do not fit: {text}. A checkpoint of '
                f'another task, arch, class count or deploy form? Loading '
                f'it would leave those layers random (--non-strict, or '
                f'spikeformer_mm.models.lenient_loading(), loads it '
                f'anyway).')
    module._register_load_state_dict_pre_hook(check, with_module=True)
    module._checks_own_weights = True  # read by the checks of its parents


# ------------------------------------------------ the model-level guard
_BACKBONES: list = []  # the backbone classes whose models are guarded
_GUARDED: 'weakref.WeakSet[nn.Module]' = weakref.WeakSet()


def _guard_parent(parent: nn.Module, name: str,
                  child: Optional[nn.Module]) -> None:
    """torch's module-registration hook: a module that takes a guarded
    backbone as its ``backbone`` gets the whole-model check."""
    if (name != 'backbone' or not isinstance(child, tuple(_BACKBONES))
            or parent in _GUARDED):
        return None
    _GUARDED.add(parent)
    keep = [f'backbone.{k}' for k in (
        *getattr(child, 'partial_load_keys', ()),
        *getattr(child, 'adapted_load_keys', ()))]
    require_complete_weights(parent, type(parent).__name__, tolerate=keep)
    return None


_HOOK = []


def guard_models_of(cls: Type[nn.Module]) -> Type[nn.Module]:
    """Class decorator of a backbone family: every model built with it as
    its ``backbone`` loads strictly as a whole (module docstring). Its
    ``partial_load_keys`` (names relative to the backbone) are the only
    tensors such a model may load without."""
    _BACKBONES.append(cls)
    if not _HOOK:
        _HOOK.append(torch.nn.modules.module
                     .register_module_module_registration_hook(_guard_parent))
    return cls
