"""The integer-spike model (I-LIF, E-SpikeFormer's MultiSpike) against its
binary form on a config's images (the ``binary_equivalence.py`` tool)."""
import copy
from collections import OrderedDict
from typing import Optional, Union

import torch

from ..analysis.energy_meter import tensors_of
from ..deploy.binary_expansion import (BinarySlotLayer, check_binary_form,
                                       count_slots, expand_to_binary,
                                       integer_neurons)
from ..deploy.reparameterize import switch_to_deploy
from ..models.backbones import MetaSpikeFormer
from .config import load_config, with_T
from .data import dataset_batches
from .inference import init_model

# what counts as equal in float64 (the counts and slot sums are exact; what
# is left is the rounding of real-valued sums in another order)
TOLERANCE = 1e-9


class _Recorder:
    """Outputs of named modules, per call, while attached."""

    def __init__(self, model, names):
        self.outputs = OrderedDict((n, []) for n in names)
        self.handles = [model.get_submodule(n).register_forward_hook(
            self._hook(n)) for n in names]

    def _hook(self, name):
        def hook(m, args, out):
            self.outputs[name].extend(t.detach() for t in tensors_of(out))
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


def _backbone_name(model):
    for n, m in model.named_modules():
        if isinstance(m, MetaSpikeFormer):
            return n
    raise ValueError('the model has no MetaSpikeFormer backbone')


@torch.no_grad()
def calibrate_batchnorms(model, run) -> None:
    """Set every BatchNorm's running statistics to those of the batches
    ``run()`` feeds (random weights: a fresh model's unit statistics leave
    most I-LIF neurons below two spikes, and the check would see few counts
    above 1)."""
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
    model.train()
    run()
    model.eval()


@torch.no_grad()
def binary_equivalence(config: str, checkpoint: Optional[str] = None,
                       T: Optional[int] = None, num_images: int = 4,
                       deploy: Union[bool, str] = 'dense',
                       cfg_options: Optional[dict] = None,
                       strict: bool = True, progress: bool = True) -> dict:
    """Run ``num_images`` val images through the integer-spike model of
    ``config``
    (random weights without ``checkpoint``, their BatchNorm statistics
    those of the images) and through its binary form
    (:func:`~spikeformer_mm.deploy.expand_to_binary`), both in float64;
    return the report: the largest absolute difference over all outputs
    (``max_abs_diff``), per expanded layer, backbone tap and model output
    (``layers``), and whether it is within :data:`TOLERANCE`."""
    model, cfg, batches = _float64_model_and_batches(
        config, checkpoint, T, num_images, cfg_options, strict)

    def run(m, data):
        return m(**data, mode='tensor')

    if checkpoint is None:
        calibrate_batchnorms(model, lambda: [run(model, d) for d in batches])
    if deploy:
        switch_to_deploy(model, deploy)

    binary = copy.deepcopy(model)
    expanded = expand_to_binary(binary, lambda: run(binary, batches[0]))
    binary_calls = check_binary_form(binary,
                                     lambda: run(binary, batches[0]))
    bb = _backbone_name(model)
    recs, counts, outputs = _run_both(model, binary, expanded + [bb],
                                      batches, run, progress)
    layers = _differences(recs, outputs, expanded, bb, binary,
                          len(batches))
    worst = max(layer['max_abs_diff'] for layer in layers)
    slots = {m.num_slots for m in binary.modules()
             if isinstance(m, BinarySlotLayer)}
    return dict(
        config=config, checkpoint=checkpoint,
        T=binary.get_submodule(bb).T, num_slots=sorted(slots),
        deploy=deploy, num_images=sum(len(d['inputs']) for d in batches),
        dtype='float64', max_abs_diff=worst, tolerance=TOLERANCE,
        equal=worst <= TOLERANCE, expanded_layers=len(expanded),
        binary_layer_calls=binary_calls,
        # counts above 1 must occur, or the check proves little
        neurons_counting_above_one=sum(v > 1 for v in counts.values()),
        neurons=len(counts), max_count=max(counts.values(), default=0.),
        layers=layers)


def _float64_model_and_batches(config, checkpoint, T, num_images,
                               cfg_options, strict):
    """The integer-spike model of ``config`` in float64, its config and
    ``num_images`` preprocessed val images in float64 batches."""
    cfg = load_config(config, with_T(cfg_options, T))
    model = init_model(cfg, checkpoint, strict=strict)
    if not integer_neurons(model):
        raise ValueError(f'{config}: the model has no integer neuron '
                         "(neuron_cfg=dict(type='ILIF', ...) or V3's "
                         "'MultiSpike'): nothing to expand")
    model.double().eval()
    batches = []
    for batch in dataset_batches(cfg, num_images):
        data = model.data_preprocessor(batch, False)
        data['inputs'] = data['inputs'].double()
        batches.append(data)
    if not batches:
        raise ValueError(f'{config}: the test/val dataset gave no images')
    return model, cfg, batches


def _run_both(model, binary, names, batches, run, progress):
    """Every batch through the integer model and its binary form,
    recording the outputs of ``names`` in each and the largest count each
    integer neuron emits: ``(recorders, counts, (outputs, outputs))``."""
    recs = [_Recorder(m, names) for m in (model, binary)]
    counts = {}  # the largest count (output x scale) of each neuron
    hooks = [n.register_forward_hook(
        lambda m, a, o, k=k, s=count_slots(n)[1]: counts.__setitem__(
            k, max(counts.get(k, 0.), float(o.max()) * s)))
        for k, n in integer_neurons(model).items()]
    outputs = ([], [])
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(batches))
    for data in batches:
        for i, m in enumerate((model, binary)):
            outputs[i].extend(tensors_of(run(m, data)))
        if progress:
            bar.update()
    if progress:
        print()
    for h in hooks:
        h.remove()
    for r in recs:
        r.remove()
    return recs, counts, outputs


def _differences(recs, outputs, expanded, bb, binary, num_batches):
    """The largest absolute difference per expanded layer, backbone tap
    and model output."""
    def diff(a, b):
        return max((float((x - y).abs().max()) for x, y in zip(a, b)),
                   default=0.)

    layers = []
    for n in expanded:
        layers.append(dict(
            name=n, kind='synaptic layer on binary slots',
            num_slots=binary.get_submodule(n).num_slots,
            max_abs_diff=diff(recs[0].outputs[n], recs[1].outputs[n])))
    a, b = recs[0].outputs[bb], recs[1].outputs[bb]
    taps = len(a) // num_batches
    for i in range(taps):
        layers.append(dict(name=f'{bb}.tap{i}', kind='backbone tap',
                           max_abs_diff=diff(a[i::taps], b[i::taps])))
    layers.append(dict(name='outputs', kind="model(mode='tensor')",
                       max_abs_diff=diff(*outputs)))
    return layers


def format_equivalence(report: dict) -> str:
    """The report as lines for the terminal."""
    w = max(len(layer['name']) for layer in report['layers'])
    lines = [f'{"layer":<{w}}  max |integer - binary|']
    lines += [f'{layer["name"]:<{w}}  {layer["max_abs_diff"]:.3e}'
              for layer in report['layers']]
    lines.append(
        f'max_abs_diff {report["max_abs_diff"]:.3e} (tolerance '
        f'{report["tolerance"]:g}, float64), T={report["T"]}, D='
        f'{report["num_slots"]}, {report["num_images"]} images, '
        f'{report["expanded_layers"]} layers expanded, '
        f'{report["neurons_counting_above_one"]} of {report["neurons"]} '
        f'integer neurons emitted counts above 1 (max {report["max_count"]:g})')
    return '\n'.join(lines)


__all__ = ['TOLERANCE', 'binary_equivalence', 'format_equivalence']
