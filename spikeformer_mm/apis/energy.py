"""Energy and firing rates of a config's model on its images (the
``energy.py`` tool)."""
from typing import Optional, Tuple, Union

import torch.nn as nn

from ..analysis.energy import EnergyMeter, format_table
from ..deploy import expand_to_binary, switch_to_deploy
from ..deploy.binary_expansion import integer_neurons
from ..models.backbones import MetaSpikeFormer
from .config import load_config
from .data import dataset_batches, random_batches
from .inference import init_model


def backbone_T(model: nn.Module) -> int:
    """T of the model's Meta-SpikeFormer backbone."""
    for m in model.modules():
        if isinstance(m, MetaSpikeFormer):
            return m.T
    raise ValueError('the model has no MetaSpikeFormer backbone')


def measure_energy(config: str, checkpoint: Optional[str] = None,
                   num_images: int = 8, random_images: bool = False,
                   img_size: Tuple[int, int] = (224, 224),
                   deploy: Union[bool, str] = True,
                   cfg_options: Optional[dict] = None,
                   rows: Optional[int] = 30,
                   strict: bool = True) -> Tuple[dict, str]:
    """Run ``num_images`` images through the model of ``config`` under the
    energy meter; return ``(report dict, printable table)``."""
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
            meter = EnergyMeter(model, backbone_T(model))
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
    return report, format_table(report, rows)
