"""Images/s and peak memory of the paper's own model (BICLab's
Spike-Driven-Transformer-V2, ``classification/models.py``), for
``gpu_check.py`` to put beside ours on the same machine.

    python tools/analysis_tools/paper_speed.py PAPER_REPO --T 1 --batch 128 \
        [--img-size 224] [--mode train|infer] [--amp] [--device cuda] [--tiny]

Run in its own interpreter with the paper's stack first on ``PYTHONPATH``
(spikingjelly 0.0.0.0.12, whose ``clock_driven`` API the model imports,
timm, einops, torchinfo; gpu_check.sh unpacks them): it imports nothing of
spikeformer_mm, so the spikingjelly 2.0 that ours needs does not collide.
The model runs as its code is written (its neurons' hard-coded CuPy
backend on CUDA); on a CPU, where CuPy cannot run, its neurons are switched
to spikingjelly's ``torch`` backend (as the fidelity vectors were made).
Training steps the paper's recipe: AdamW, and with ``--amp`` fp16
autocast with a gradient scaler (its ``main_finetune.py``). Prints one line
of JSON.
"""
import argparse
import importlib.util
import json
import os.path as osp
import statistics
import sys
import time
from functools import partial

import torch
import torch.nn as nn

# The sizes of Meta-SpikeFormer (the paper's Table 5); 15M has no factory
# in its code: its arguments are those of the other sizes with these widths
EMBED_DIMS = {'15M': [64, 128, 256, 360], '31M': [96, 192, 384, 480],
              '55M': [128, 256, 512, 640], 'tiny': [16, 32, 64, 80]}


def load_paper_models(repo: str):
    path = osp.join(repo, 'classification', 'models.py')
    if not osp.isfile(path):
        raise SystemExit(f'error: {path} not found: PAPER_REPO must be a '
                         f'checkout of BICLab/Spike-Driven-Transformer-V2')
    spec = importlib.util.spec_from_file_location('sdtv2_models', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(module, arch: str, T: int, img_size: int, device: str):
    model = module.Spiking_vit_MetaFormer(
        img_size_h=img_size, img_size_w=img_size, patch_size=16,
        embed_dim=EMBED_DIMS[arch], num_heads=8, mlp_ratios=4,
        in_channels=3, num_classes=1000, qkv_bias=False,
        norm_layer=partial(nn.LayerNorm, eps=1e-6), depths=8, sr_ratios=1)
    model.T = T
    if not device.startswith('cuda'):
        for m in model.modules():  # CuPy needs CUDA
            if hasattr(m, 'backend'):
                m.backend = 'torch'
    return model.to(device)


def reset(model):
    for m in model.modules():
        if hasattr(m, 'reset') and m is not model:
            m.reset()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('repo', help='a checkout of Spike-Driven-Transformer-V2')
    p.add_argument('--arch', default='15M', choices=sorted(EMBED_DIMS))
    p.add_argument('--T', type=int, default=1)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--mode', default='train', choices=('train', 'infer'))
    p.add_argument('--amp', action='store_true',
                   help='fp16 autocast and a gradient scaler, as the '
                   "paper's training script")
    p.add_argument('--device', default='cuda')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--repeats', type=int, default=5)
    args = p.parse_args(argv)
    cuda = args.device.startswith('cuda')
    torch.manual_seed(0)
    model = build(load_paper_models(args.repo), args.arch, args.T,
                  args.img_size, args.device)
    x = torch.randn(args.batch, 3, args.img_size, args.img_size,
                    device=args.device)
    y = torch.randint(0, 1000, (args.batch, ), device=args.device)
    train = args.mode == 'train'
    model.train(train)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4,
                            weight_decay=0.05) if train else None
    scaler = torch.amp.GradScaler(enabled=args.amp and cuda)
    amp = torch.autocast('cuda' if cuda else 'cpu', enabled=args.amp,
                         dtype=torch.float16 if cuda else torch.bfloat16)

    def step():
        with torch.set_grad_enabled(train), amp:
            out = model(x)
            out = out[0] if isinstance(out, tuple) else out
            if train:
                loss = nn.functional.cross_entropy(out.float(), y)
        if train:
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        reset(model)
        if cuda:
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = None
    if cuda:
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    med = statistics.median(times)
    from importlib.metadata import version
    print(json.dumps(dict(
        model='paper', arch=args.arch, T=args.T, batch=args.batch,
        img_size=args.img_size, mode=args.mode,
        dtype='fp16 autocast' if args.amp else 'fp32', device=args.device,
        img_per_s=args.batch / med, step_s=med, step_s_all=times,
        peak_mem_mb=peak, torch=torch.__version__,
        spikingjelly=version('spikingjelly'))))


if __name__ == '__main__':
    sys.exit(main())
