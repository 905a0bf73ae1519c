"""tools/analysis_tools/spike_count_table.py's bookkeeping (its training
run is the e2e test's): which runs it keeps, which it trains again."""
import importlib.util
import json
import os.path as osp
import sys

import pytest

from helpers import ROOT


@pytest.fixture
def table_tool(monkeypatch):
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    spec = importlib.util.spec_from_file_location(
        'spike_count_table',
        osp.join(ROOT, 'tools', 'analysis_tools', 'spike_count_table.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import run_demos
    trained = []

    def fake_train(config, metrics, wd, opts, seed):
        trained.append((config, seed))
        return dict(config=config, checkpoint='x.pth', top1=90.0 + seed,
                    train_seconds=100.0 + seed, seed=seed)
    monkeypatch.setattr(run_demos, 'train_and_test', fake_train)
    monkeypatch.setattr(run_demos, 'train_iteration_seconds',
                        lambda ckpt: 80.0)
    monkeypatch.setattr(mod, 'measure', lambda e, o, n: dict(
        energy_mJ=0.01, events=0.5, rate=0.4))
    yield mod, trained
    sys.path.remove(osp.join(ROOT, 'tools'))


def test_recipe_digest_follows_the_config_not_the_seed(table_tool):
    mod, _ = table_tool
    cfg = mod.ILIF
    assert mod.recipe(cfg, []) == mod.recipe(cfg, [])
    assert mod.recipe(cfg, []) == mod.recipe(cfg, ['randomness.seed=3'])
    assert mod.recipe(cfg, []) != mod.recipe(
        cfg, ['model.backbone.attn_scale=1.0'])
    assert mod.recipe(cfg, []) != mod.recipe(mod.BINARY, [])


def test_runs_of_another_recipe_are_trained_again(table_tool, tmp_path,
                                                  capsys):
    mod, trained = table_tool
    argv = ['--variants', 'ilif-t1-d4', '--seeds', '2', '--work-dir',
            str(tmp_path)]
    mod.main(argv)
    assert trained == [(mod.ILIF, 0), (mod.ILIF, 1)]
    mod.main(argv)  # the same recipe: nothing trained
    assert len(trained) == 2
    path = tmp_path / 'results.json'
    res = json.loads(path.read_text())
    assert all(r['recipe'] and 'CPU capability' in r['cpu']
               for r in res['ilif-t1-d4'])
    res['ilif-t1-d4'][1]['recipe'] = 'an older config'
    path.write_text(json.dumps(res))
    mod.main(argv)
    assert trained[2:] == [(mod.ILIF, 1)]
    assert '1 earlier run(s) of another recipe' in capsys.readouterr().out
    table = (tmp_path / 'table.md').read_text()
    assert '| I-LIF, T=1, D=4 | 1 x 4 = 4 | 90.50 ± 0.71 | 100 ± 1 | 80 ± 0 |' \
        in table


def test_readme_rows_are_the_committed_run_record():
    """The E-SpikeFormer row of configs/classification/README.md is what
    the committed run record (docs/results/) gives, formatted by the tool
    itself: an edited figure or record fails here."""
    import importlib.util
    import json
    import os.path as osp

    from helpers import ROOT
    spec = importlib.util.spec_from_file_location(
        'sct', osp.join(ROOT, 'tools/analysis_tools/spike_count_table.py'))
    sct = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sct)
    record = json.load(open(osp.join(
        ROOT, 'docs/results/spike_counts_v3_2026-12-06.json')))
    rows = {ln.split('|')[1].strip(): ln for ln in
            sct.table(record).splitlines()[2:] if ln.startswith('| ')}
    readme = open(osp.join(ROOT, 'configs/classification/README.md')).read()
    v3 = rows['E-SpikeFormer (V3), T=1, D=4']
    cells = v3.split('|')[2:]
    assert ('| E-SpikeFormer (V3), T=1, D=4 (2026-12-06) |' +
            '|'.join(cells)) in readme, v3
    ilif = rows['I-LIF, T=1, D=4'].split('|')[3].strip()
    assert ilif == '98.43 ± 0.42' and f'({ilif};' in readme


def test_v3_tuning_figures_are_the_committed_record():
    """The attention scales and learning rates tried for the V3 digits demo,
    as the classification README states them (the config points there),
    are those of the committed run record."""
    import json
    import os.path as osp

    from helpers import ROOT
    rec = json.load(open(osp.join(
        ROOT, 'docs/results/v3_demo_attention_scale_2026-12-06.json')))
    top1 = {(r['variant'], r['seed']): r['top1_epoch12'] for r in rec['runs']}
    readme = open(osp.join(ROOT, 'configs/classification/README.md')).read()
    config = open(osp.join(ROOT, 'configs/classification/'
                           'e-spikeformer-demo_1xb32_digits-t1.py')).read()
    for scale in ('0.25', '0.0625'):
        pair = ' / '.join(f'{top1[(f"scale {scale}", s)]:.2f}' for s in (1, 2))
        assert f'{scale}, {pair}%' in readme, (scale, pair)
    lrs = ' / '.join(f'{top1[(v, 0)]:.1f}' for v in (
        "V3's scale, lr 3e-3", "V3's scale, lr 3e-2"))
    assert f'{lrs}%' in readme
    v3_scale = top1[("V3's scale 2/sqrt(head dim)", 0)]
    assert f"{v3_scale:.1f}% top-1 on seed 0 with V3's scale" in \
        ' '.join(readme.split())
    assert 'configs/classification/README.md' in ' '.join(config.split())


def test_options_for_every_variant_and_the_run_record(table_tool, tmp_path):
    """``--cfg-options`` reach every variant's training and are part of its
    recipe; ``--record`` writes the variants asked for with the command,
    CPU, torch, date and commit (each run its own too), and an existing
    record is refused before anything trains, and kept."""
    mod, trained = table_tool
    rec = tmp_path / 'rec.json'
    opts = []
    real = mod.recipe
    mod.recipe = lambda config, o: opts.append(list(o)) or real(config, o)
    argv = ['--variants', 'lif-t4', '--seeds', '1', '--work-dir',
            str(tmp_path / 'w'), '--cfg-options', 'train_cfg.max_epochs=12',
            '--record', str(rec)]
    mod.main(argv)
    assert trained == [(mod.BINARY, 0)]
    assert all('train_cfg.max_epochs=12' in o for o in opts)
    r = json.loads(rec.read_text())
    assert r['command'] == ('python tools/analysis_tools/'
                            'spike_count_table.py ' + ' '.join(argv))
    assert set(r['results']) == {'lif-t4'}
    run = r['results']['lif-t4'][0]
    assert 'train_cfg.max_epochs=12' in run['options']
    for k in ('cpu', 'torch', 'date', 'commit', 'cpu_capability'):
        assert k in r, k
    assert run['date'] == r['date'] and run['commit'] == r['commit']
    assert r['table'] == mod.table(r['results'])
    before = rec.read_text()
    with pytest.raises(SystemExit, match=f'--record {rec} exists'):
        mod.main(argv[:-2] + ['--seeds', '2', '--record', str(rec)])
    assert len(trained) == 1 and rec.read_text() == before
    with pytest.raises(ValueError, match='not KEY=VALUE'):
        mod.main(['--variants', 'lif-t4', '--work-dir', str(tmp_path),
                  '--cfg-options', 'max_epochs'])
