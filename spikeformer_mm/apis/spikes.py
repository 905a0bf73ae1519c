"""Pictures of a model's spikes on one input (the ``vis_spikes.py`` tool)."""
import os.path as osp
from typing import Callable, Optional, Sequence

import torch

from ..analysis.spike_maps import SpikeRecorder
from ..visualization import (event_frames_beside_spikes, read_image,
                             save_gif, save_picture, spike_pictures)
from .config import load_config
from .data import file_batch
from .inference import init_model


def visualize_spikes(config: str, checkpoint: Optional[str], path: str,
                     out_dir: str, stages: Optional[Sequence[int]] = None,
                     channels: int = 4,
                     cfg_options: Optional[dict] = None,
                     model=None,
                     check_paths: Optional[Callable[[list], None]] = None
                     ) -> list:
    """Run the image (or event recording) ``path`` through the model of
    ``config`` and write the pictures of
    :func:`~spikeformer_mm.visualization.spike_pictures` to ``out_dir``
    (and, for event input, ``events.gif``: the event frames beside the
    first recorded stage's spikes). Returns the written paths. ``model``:
    an already loaded model of ``config`` (``checkpoint`` is then not
    read). ``check_paths``: called with every path before anything is
    written (a tool refuses one that names its own input)."""
    if model is None:
        cfg = load_config(config, cfg_options)
        model = init_model(cfg, checkpoint)
    cfg = model.cfg
    data = model.data_preprocessor(file_batch(cfg, path), False)
    x = data['inputs']
    with SpikeRecorder(model, stages) as rec, torch.no_grad():
        model.extract_feat(x)
    events = x.dim() == 5  # [T, B, 2, H, W]: an event recording
    image = None if events else read_image(path)
    pictures = {osp.join(out_dir, f'{name}.png'): img for name, img in
                spike_pictures(rec.spikes, image, channels).items()}
    gif = osp.join(out_dir, 'events.gif') if events else None
    if check_paths is not None:
        check_paths(list(pictures) + ([gif] if gif else []))
    written = [save_picture(img, p) for p, img in pictures.items()]
    if events:
        first = rec.spikes[min(rec.spikes)][:, 0]
        written.append(save_gif(
            event_frames_beside_spikes(x[:, 0].cpu(), first), gif))
    return written
