"""Pictures of the spikes: the recorder's stages, the tool on an image and
on an event recording, and the validation hook through a Runner."""
import os.path as osp

import numpy as np
import pytest
import torch

from helpers import ROOT, TINY_ARCH, run_py

CLS = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
EVENT = ('projects/event_digits/configs/'
         'metaspikeformer-demo_1xb32_event-digits-t4.py')


def test_recorder_keeps_each_stages_spikes():
    from spikeformer_mm.analysis.spike_maps import SpikeRecorder
    from spikeformer_mm.models import MetaSpikeFormer
    m = MetaSpikeFormer(arch=TINY_ARCH, T=2, out_indices=(4, )).eval()
    with SpikeRecorder(m) as rec, torch.no_grad():
        m(torch.rand(3, 3, 32, 32))
    assert sorted(rec.spikes) == [0, 1, 2, 3, 4]
    for s, x in rec.spikes.items():
        assert x.shape[:3] == (2, 3, m.tap_channels[s])
        assert set(x.unique().tolist()) <= {0.0, 1.0}, s  # spikes
    m(torch.rand(1, 3, 32, 32))  # outside the block: nothing recorded
    assert rec.spikes[0].shape[1] == 3
    with pytest.raises(ValueError, match='stages'):
        SpikeRecorder(m, stages=[7])


@pytest.mark.parametrize('large', [False, True])
def test_recorder_keeps_e_spikeformer_counts(large):
    """E-SpikeFormer's stages (five for the base models, four for the
    large ones) recorded as counts 0..4, not as V3's count / 4. Mutation
    caught: recording the neuron's output as it is."""
    from spikeformer_mm.analysis.spike_maps import SpikeRecorder
    from spikeformer_mm.models import ESpikeFormer, ESpikeFormerLarge
    torch.manual_seed(0)
    m = ESpikeFormerLarge(arch=dict(embed_dims=[16, 32, 64], depth=1)) \
        if large else ESpikeFormer(arch=TINY_ARCH)
    for bn in m.modules():  # statistics that make the quantisers count
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.running_var.fill_(0.05)
    m.eval()
    with SpikeRecorder(m) as rec, torch.no_grad():
        m(torch.rand(2, 3, 32, 32))
    assert sorted(rec.spikes) == list(range(4 if large else 5))
    values = set(torch.cat([x.flatten() for x in rec.spikes.values()])
                 .unique().tolist())
    assert values <= {0.0, 1.0, 2.0, 3.0, 4.0} and max(values) > 1, values


def test_pictures_show_where_the_spikes_are():
    """A spike map that fires in one corner only draws that corner hot."""
    from spikeformer_mm.visualization import raster, spike_pictures
    x = torch.zeros(2, 1, 4, 8, 8)
    x[:, 0, :, :4, :4] = 1  # top-left quarter fires at every step
    pics = spike_pictures({0: x}, channels=2)
    assert set(pics) == {'stage0_t0_mean', 'stage0_t1_mean',
                         'stage0_t0_channels', 'stage0_t1_channels',
                         'stage0_rate', 'raster'}
    heat = pics['stage0_rate'].astype(float)
    h, w = heat.shape[:2]
    hot = heat[:h // 4, :w // 4].mean(axis=(0, 1))
    cold = heat[-h // 4:, -w // 4:].mean(axis=(0, 1))
    assert hot[0] > cold[0] + 100  # red where it fires (jet colour map)
    r = raster(torch.tensor([[1., 0.], [0., 1.]]).view(2, 2), neurons=2)
    assert r.shape == (2 * 6, 256, 3)
    assert (r[:6, 1:128] == 255).all() != (r[6:, 1:128] == 255).all()


def test_overview_is_a_labelled_stage_by_step_grid():
    """The overview: one row per stage, one column per step after the
    input, each map at full size (it was one row of 12 thumbnails about
    40 px high in the browser), with labels; mutation caught: the old
    side-by-side strip (one row)."""
    from spikeformer_mm.visualization import spike_pictures
    spikes = {0: (torch.rand(2, 1, 4, 8, 8) > 0.5).float(),
              2: (torch.rand(2, 1, 4, 4, 4) > 0.5).float()}
    image = (np.random.rand(32, 32, 3) * 255).astype(np.uint8)
    pics = spike_pictures(spikes, image, channels=1)
    ov, cell = pics['overview'], pics['stage0_t0_mean']
    h, w = cell.shape[:2]
    assert h >= 256
    assert ov.shape[0] >= 2 * h and ov.shape[0] < 3 * h  # 2 stage rows
    assert ov.shape[1] >= 3 * w and ov.shape[1] < 4 * w  # input + 2 steps

    def found(pic):  # top-left corner of pic inside the overview
        import cv2
        r = cv2.matchTemplate(ov, pic, cv2.TM_SQDIFF)
        return cv2.minMaxLoc(r)[2][::-1], r.min()
    (y0, x0), d0 = found(pics['stage0_t1_mean'])
    (y2, x2), d2 = found(pics['stage2_t0_mean'])
    assert d0 == 0 and d2 == 0
    assert y2 > y0 + h - 1 and x2 < x0  # stage 2 below, step 1 left of 2
    assert (ov[:y0, x0:x0 + w] < 128).any()  # a column label above
    assert (ov[y0:y0 + h, :x0 - w] < 128).any()  # a row label at the left


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_vis_spikes_tool_on_an_image_and_on_events(tmp_path):
    from PIL import Image
    img = tmp_path / 'digit.png'
    Image.fromarray((np.random.rand(32, 32, 3) * 255).astype(np.uint8)).save(
        img)
    r = run_py('tools/analysis_tools/vis_spikes.py', CLS, 'none', str(img),
               '--out', str(tmp_path / 'img'), '--stages', '0', '3',
               '--channels', '2')
    # 2 stages x (2 steps x 2 + rate), the raster, the overview
    assert '12 pictures' in r.stdout
    names = sorted(p.name for p in (tmp_path / 'img').iterdir())
    assert 'stage3_t1_mean.png' in names and 'raster.png' in names
    assert Image.open(tmp_path / 'img' / 'stage0_rate.png').size == (256, 256)
    # an event recording: the frames beside the first stage's spikes
    from projects.event_digits.event_digits import emulate, write_bin
    from sklearn.datasets import load_digits
    rec = str(tmp_path / '00001.bin')
    write_bin(rec, emulate(load_digits().images[3], seed=0))
    r = run_py('tools/analysis_tools/vis_spikes.py', EVENT, 'none', rec,
               '--out', str(tmp_path / 'ev'), '--stages', '0')
    gif = Image.open(tmp_path / 'ev' / 'events.gif')
    assert gif.n_frames == 4  # T=4 event bins
    r = run_py('tools/analysis_tools/vis_spikes.py', CLS, 'none',
               str(tmp_path / 'nothing.png'), check=False)
    assert r.returncode == 1 and 'input not found' in r.stderr


@pytest.mark.e2e  # trains through the tools
def test_spike_vis_hook_writes_to_the_work_dir_and_vis_backends(tmp_path):
    """tools/train.py with SpikeVisHook: the pictures of the first val batch
    land in <work_dir>/spike_maps/<epoch>/ and in the visualizer's
    LocalVisBackend folder (vis_data/vis_image)."""
    wd = tmp_path / 'wd'
    cfg = tmp_path / 'with_spike_pictures.py'
    cfg.write_text(f"_base_ = [{osp.join(ROOT, CLS)!r}]\n"
                   "custom_hooks = [*_base_.custom_hooks, dict(\n"
                   "    type='spikeformer_mm.SpikeVisHook', stages=[0])]\n")
    run_py('tools/train.py', str(cfg), '--work-dir', str(wd),
           '--cfg-options', 'train_cfg.max_epochs=1',
           'train_cfg.val_interval=1', 'train_dataloader.dataset.indices=8',
           'val_dataloader.dataset.indices=8',
           'train_dataloader.num_workers=0',
           'train_dataloader.persistent_workers=False',
           'val_dataloader.num_workers=0',
           'val_dataloader.persistent_workers=False', timeout=600)
    maps = wd / 'spike_maps' / '1'
    assert (maps / 'stage0_t0_mean.png').is_file()
    assert (maps / 'raster.png').is_file()
    vis = list(wd.glob('*/vis_data/vis_image/spikes*stage0_rate*'))
    assert vis, sorted(str(p) for p in wd.rglob('*.png'))[:10]
