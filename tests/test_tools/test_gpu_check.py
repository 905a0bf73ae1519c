"""The GPU check's dry run (the same plan on the CPU, tiny), with a stand-in
for the paper's repository (its model file's interface: the class, its
arguments, ``T``, neurons with a ``backend`` and ``reset``), so the whole
path a GPU run takes is exercised in every ``make test``."""
import json

import pytest

from helpers import run_py

PAPER_MODEL = '''
import torch
import torch.nn as nn


class Neuron(nn.Module):
    backend = "cupy"

    def reset(self):
        pass

    def forward(self, x):
        assert self.backend == "torch" or x.is_cuda, "CuPy needs CUDA"
        return (x > 0).float()


class Spiking_vit_MetaFormer(nn.Module):
    def __init__(self, img_size_h, img_size_w, patch_size, in_channels,
                 num_classes, embed_dim, num_heads, mlp_ratios, qkv_bias,
                 norm_layer, depths, sr_ratios):
        super().__init__()
        self.T = 1
        self.conv = nn.Conv2d(in_channels, embed_dim[0], 3, padding=1)
        self.lif = Neuron()
        self.head = nn.Linear(embed_dim[0], num_classes)

    def forward(self, x):
        x = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        s = self.lif(self.conv(x.flatten(0, 1)))
        return self.head(s.mean((2, 3))).view(self.T, -1, 1000).mean(0)
'''


@pytest.mark.e2e  # a subprocess timing a dozen tiny runs
def test_dry_run_measures_every_row_kind(tmp_path):
    repo = tmp_path / 'sdtv2' / 'classification'
    repo.mkdir(parents=True)
    (repo / 'models.py').write_text(PAPER_MODEL)
    r = run_py('tools/analysis_tools/gpu_check.py', '--dry-run',
               '--paper-repo', str(tmp_path / 'sdtv2'), '--out-dir',
               str(tmp_path / 'out'), timeout=900)
    (run_dir, ) = (tmp_path / 'out').iterdir()
    rep = json.loads((run_dir / 'gpu_check.json').read_text())
    rows = rep['rows']
    measured = [x for x in rows if 'img_per_s' in x]
    assert rep['dry_run'] and rep['environment']['device'] == 'cpu'
    # the paper's rows ran its model file (fp32 and autocast) at T=1 and 2
    paper = [x for x in measured if x['model'] == 'paper']
    assert {(x['mode'], x['T'], x['amp']) for x in paper} == {
        (m, T, a) for m in ('train', 'infer') for T in (1, 2)
        for a in (True, False)}
    ours = [x for x in measured if x['model'] == 'ours']
    assert any(x.get('compile') == 'default' for x in ours) or all(
        x.get('skipped', '').startswith('bf16') for x in rows
        if x.get('compile') == 'default')
    assert any(not x['fast'] for x in ours) and any(x['fast'] for x in ours)
    assert all(x['skipped'] == 'CUDA graphs: CUDA only' for x in rows
               if x.get('compile') == 'reduce-overhead')
    assert {x.get('cuda_kernel') for x in rows} >= {'cuda', 'triton',
                                                     'torch'}
    assert {(g['mode'], g['T']) for g in rep['goals']} == {
        (m, T) for m in ('train', 'infer') for T in (1, 2)}
    table = (run_dir / 'gpu_check.md').read_text()
    assert 'DRY RUN' in table and '| train | 1 | 2 | paper, fp16 autocast' \
        in table
    assert 'img/s' in r.stdout
    # a second run writes its own folder: the first report is kept
    bad = run_py('tools/analysis_tools/gpu_check.py', '--dry-run',
                 '--paper-repo', str(tmp_path), check=False)
    assert bad.returncode != 0 and 'no classification/models.py' in \
        bad.stderr


def test_a_row_that_runs_out_of_memory_is_retried_at_half_the_batch(
        monkeypatch):
    """The paper's batch or the largest that fits, said in the row."""
    import torch

    from spikeformer_mm.analysis import gpu_check
    tried = []

    def fake(row, device, repeats, warmup, dry_run):
        tried.append(row['batch'])
        if row['batch'] > 1:
            raise torch.cuda.OutOfMemoryError('CUDA out of memory. Tried')
        return dict(img_per_s=1.0, step_s=1.0, peak_mem_mb=5.0)
    monkeypatch.setattr(gpu_check, 'run_ours', fake)
    monkeypatch.setattr(gpu_check, 'plan', lambda d, p: [dict(
        arch='15M', img_size=224, mode='train', T=1, batch=4, model='ours',
        fast=True, dtype='fp32')])
    rep = gpu_check.run_check('cpu', dry_run=True, log=lambda s: None)
    (row, ) = rep['rows']
    assert tried == [4, 2, 1] and row['batch'] == 1 and \
        row['batch_planned'] == 4
    assert '| 1 (4 did not fit) |' in gpu_check.markdown(rep)
