"""Build a config's model and images, and measure them (energy tool)."""
import os.path as osp
import tempfile
from typing import Optional, Tuple, Union

import numpy as np

from .energy import EnergyMeter, format_table


def backbone_T(model):
    from ..models.backbones import MetaSpikeFormer
    for m in model.modules():
        if isinstance(m, MetaSpikeFormer):
            return m.T
    raise ValueError('the model has no MetaSpikeFormer backbone')


def _test_pipeline(cfg):
    dl = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if dl is None:
        raise ValueError('the config has no test_dataloader')
    from ..apis import innermost_dataset
    ds = innermost_dataset(dl['dataset'])
    return [t for t in ds['pipeline']
            if 'Annotation' not in t['type'] and 'Check' not in t['type']]


def random_batches(cfg, num_images, img_size, seed=0):
    """Random RGB images through the config's test pipeline (annotations
    dropped), one per batch."""
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from PIL import Image
    pipeline = Compose(_test_pipeline(cfg))
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as d:
        for i in range(num_images):
            path = osp.join(d, f'{i}.png')
            Image.fromarray(rng.integers(0, 256, (*img_size, 3),
                                         dtype=np.uint8)).save(path)
            yield pseudo_collate([pipeline(dict(img_path=path, img_id=i))])


def dataset_batches(cfg, num_images):
    from mmengine.runner import Runner
    dl_cfg = dict(cfg.get('test_dataloader') or cfg.val_dataloader)
    dl_cfg.update(num_workers=0, persistent_workers=False)
    dl_cfg.pop('batch_size', None)
    loader = Runner.build_dataloader(dict(dl_cfg, batch_size=1))
    for i, batch in enumerate(loader):
        if i >= num_images:
            break
        yield batch


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

    from ..apis import init_model, load_config
    cfg = load_config(config, cfg_options)
    model = init_model(cfg, checkpoint, strict=strict)
    params = sum(p.numel() for p in model.parameters())  # as trained
    if deploy:
        from ..models.deploy import switch_to_deploy
        switch_to_deploy(model)
    meter = EnergyMeter(model, backbone_T(model))
    batches = random_batches(cfg, num_images, img_size) if random_images \
        else dataset_batches(cfg, num_images)
    bar = ProgressBar(num_images)
    seen = 0
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        # images in the batch (inputs of a sequence model are [T, B, ...])
        n = len(data.get('data_samples') or data['inputs'])
        meter.run(lambda: model(**data, mode='predict'), n)
        seen += n
        for _ in range(n):
            bar.update()
    print()
    meter.remove()
    if seen == 0:
        raise ValueError('no images: the test set is empty')
    report = meter.report()
    report.update(config=config, checkpoint=checkpoint, deploy=deploy,
                  params=params,
                  images='random' if random_images else 'test set')
    return report, format_table(report, rows)
