"""Energy and firing rates of a config's model on its images (the
``energy.py`` tool)."""
from typing import Optional, Sequence, Tuple, Union

import torch.nn as nn

from ..analysis.energy_meter import EnergyMeter, energy_at_rate, format_table
from ..deploy import expand_to_binary, switch_to_deploy
from ..deploy.binary_expansion import integer_neurons
from ..models.backbones import MetaSpikeFormer
from .config import load_config
from .data import dataset_batches, random_batches
from .inference import init_model


def backbone_T(model: nn.Module) -> int:
    """T of the model's backbone (``model.backbone.T``: the backbone owns
    it; a bare backbone is its own)."""
    backbone = getattr(model, 'backbone', model)
    if not isinstance(backbone, MetaSpikeFormer):
        raise ValueError(f'{type(model).__name__}: no Meta-SpikeFormer / '
                         'E-SpikeFormer backbone to take T from')
    return backbone.T


def measure_energy(config: str, checkpoint: Optional[str] = None,
                   num_images: int = 8, random_images: bool = False,
                   img_size: Tuple[int, int] = (224, 224),
                   deploy: Union[bool, str] = True,
                   cfg_options: Optional[dict] = None,
                   rows: Optional[int] = 30,
                   strict: bool = True, convention: str = 'measured',
                   flops_basis: str = 'deployed', memory: bool = False,
                   assume_rates: Optional[Sequence[float]] = None
                   ) -> Tuple[dict, str]:
    """Run ``num_images`` images through the model of ``config`` under the
    energy meter; return ``(report dict, printable table)``. ``memory``:
    also spikingjelly's simple energy model of the first batch (memory
    access beside compute, ``report['spikingjelly_simple_energy']``);
    ``assume_rates``: the energy at each of these mean rates
    (``report['assumed_rates']``, :func:`energy_at_rate`)."""
    from mmengine.utils import ProgressBar

    cfg = load_config(config, cfg_options)
    model = init_model(cfg, checkpoint, strict=strict)
    params = sum(p.numel() for p in model.parameters())  # as trained
    if deploy:
        switch_to_deploy(model)
    batches = random_batches(cfg, num_images, img_size) if random_images \
        else dataset_batches(cfg, num_images)
    meter, bar, seen = None, ProgressBar(num_images), 0
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        if meter is None:
            if integer_neurons(model):
                # integer spikes are counted as the unit events of the
                # binary form (found by running the first batch)
                expand_to_binary(model,
                                 lambda: model(**data, mode='predict'))
            meter = EnergyMeter(model, backbone_T(model), convention,
                                flops_basis)
            if memory:
                simple = simple_energy(model, data)
        # images in the batch (inputs of a sequence model are [T, B, ...])
        n = len(data.get('data_samples') or data['inputs'])
        meter.run(lambda: model(**data, mode='predict'), n)
        seen += n
        for _ in range(n):
            bar.update()
    print()
    if seen == 0:
        raise ValueError('no images: the test set is empty')
    meter.remove()
    report = meter.report()
    report.update(config=config, checkpoint=checkpoint, deploy=deploy,
                  params=params,
                  images='random' if random_images else 'test set')
    table = format_table(report, rows)
    if memory:
        report['spikingjelly_simple_energy'] = simple
        table += (f'\nmemory access (spikingjelly simple energy model, first '
                  f'batch, not added): {simple["memory_mJ"]:.4g} mJ / image '
                  f'beside its compute {simple["compute_mJ"]:.4g} mJ')
    if assume_rates:
        report['assumed_rates'] = [energy_at_rate(report, r)
                                   for r in assume_rates]
        for a in report['assumed_rates']:
            table += (f'\nat mean rate {a["rate"]:g}: measured '
                      f'{a["measured"]:.4g} mJ, paper {a["paper"]:.4g} mJ '
                      f'per image ({report["flops_basis"]} FLOPs basis)')
    return report, table


def simple_energy(model: nn.Module, data: dict) -> dict:
    """spikingjelly's ``estimate_simple_energy`` (the same 45 nm costs and
    a memory-access term) of one batch, per image, in mJ."""
    from spikingjelly.activation_based.op_counter import \
        estimate_simple_energy
    from spikingjelly.activation_based import functional
    functional.reset_net(model)
    rep = estimate_simple_energy(model, dict(data, mode='predict'))
    n = len(data.get('data_samples') or data['inputs'])
    return dict(mac_mJ=rep.energy_mac_pj * 1e-9 / n,
                ac_mJ=rep.energy_ac_pj * 1e-9 / n,
                compute_mJ=rep.energy_compute_pj * 1e-9 / n,
                memory_mJ=rep.energy_memory_pj * 1e-9 / n,
                warnings=list(rep.warnings))
