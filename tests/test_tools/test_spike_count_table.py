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


def test_twelve_epoch_v3_figures_are_their_committed_run_record():
    """The 12-epoch E-SpikeFormer and I-LIF figures that the
    classification README states are the means the tool computes from
    their committed run record (docs/results/spike_counts_v3_2026-12-06.json)."""
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
    s = {n: sct.summarise(r)['top1'] for n, r in record.items()}
    readme = ' '.join(open(osp.join(
        ROOT, 'configs/classification/README.md')).read().split())
    v3, ilif = s['v3-t1-d4'], s['ilif-t1-d4']
    assert (f'it was {v3["mean"]:.2f} ± {v3["std"]:.2f}% against I-LIF\'s '
            f'{ilif["mean"]:.2f} ± {ilif["std"]:.2f}%, '
            f'{ilif["mean"] - v3["mean"]:.1f} points under') in readme


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


SPIKE_RECORD = 'docs/results/spike_counts_2026-12-07.json'


def committed_table(path):
    """The tool's module, the committed record ``path`` and the
    classification README, after checking that the record's table is the
    one the tool makes of its runs (at a clean commit) and that the README
    holds each of its rows."""
    spec = importlib.util.spec_from_file_location(
        'sct', osp.join(ROOT, 'tools/analysis_tools/spike_count_table.py'))
    sct = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sct)
    with open(osp.join(ROOT, path)) as f:
        rec = json.load(f)
    assert not rec['commit'].endswith('dirty') and \
        rec['table'] == sct.table(rec['results'])
    with open(osp.join(ROOT, 'configs/classification/README.md')) as f:
        cls = f.read()
    for line in rec['table'].splitlines():
        if line.startswith('| ') and not line.startswith('| variant'):
            assert line in cls, line
    return sct, rec, cls


def test_integer_spike_figures_are_the_committed_run_record():
    """The binary/integer table of configs/classification/README.md holds
    the rows the committed record's table gives (written by the tool), and
    the README's I-LIF and E-SpikeFormer sentences are that record's
    means and ratios (top-1, seconds of tools/train.py, energy per image in
    binary form)."""
    sct, rec, cls = committed_table(SPIKE_RECORD)
    s = {n: sct.summarise(runs) for n, runs in rec['results'].items()}

    def pm(name, key, fmt):
        return (f'{s[name][key]["mean"]:{fmt}} ± '
                f'{s[name][key]["std"]:{fmt}}')

    def ratio(a, b, key):
        return f'{s[a][key]["mean"] / s[b][key]["mean"]:.2f}x'
    readme = ' '.join(open(osp.join(ROOT, 'README.md')).read().split())
    ilif, lif4, v3 = 'ilif-t1-d4', 'lif-t4', 'v3-t1-d4'
    said = (f'I-LIF at T=1, D=4 reaches {pm(ilif, "top1", ".2f")}% top-1 '
            f'against {pm(lif4, "top1", ".2f")}% for binary LIF at T=4, in '
            f'{pm(ilif, "train_seconds", ".0f")} s of training against '
            f'{pm(lif4, "train_seconds", ".0f")} s '
            f'({ratio(ilif, lif4, "train_seconds")};')
    assert said in readme, said
    assert (f'at {ratio(ilif, lif4, "energy_mJ")} its energy per image in '
            'binary form') in readme
    # the classification README's statements under its table
    time_ratio = (s[ilif]['train_seconds']['mean'] /
                  s[lif4]['train_seconds']['mean'])
    cls_flat = ' '.join(cls.split())

    def seeds(name):
        return ' / '.join(f'{r["top1"]:.2f}' for r in rec['results'][name])
    for said in (
            f'{pm(ilif, "top1", ".2f")}% ({seeds(ilif)}) against '
            f'{pm(lif4, "top1", ".2f")}%, in '
            f'{pm(ilif, "train_seconds", ".0f")} s of `tools/train.py` '
            f'against {pm(lif4, "train_seconds", ".0f")} s '
            f'({ratio(ilif, lif4, "train_seconds")}; in training iterations '
            f'{s[ilif]["train_iter_seconds"]["mean"]:.0f} against '
            f'{s[lif4]["train_iter_seconds"]["mean"]:.0f} s, '
            f'{ratio(ilif, lif4, "train_iter_seconds")})',
            'the time is ' + f'{time_ratio:.3f}x',
            f'({s[ilif]["rate"]["mean"]:.2f} of the neurons at all, '
            f'{s[ilif]["events"]["mean"]:.2f} unit events per neuron and '
            f'step, against {s[lif4]["events"]["mean"]:.2f} for binary',
            f'costs {s[ilif]["energy_mJ"]["mean"]:.4f} mJ per image, '
            f'{ratio(ilif, lif4, "energy_mJ")} binary T=4\'s '
            f'{s[lif4]["energy_mJ"]["mean"]:.4f} mJ',
            f'per seed {seeds(v3)}%',
            f'(fewer unit events: {s[v3]["events"]["mean"]:.2f} against '
            f'{s[ilif]["events"]["mean"]:.2f} per neuron and step)'):
        assert said in cls_flat, said
    same = f'{s[ilif]["top1"]["mean"]:.2f}' == f'{s[lif4]["top1"]["mean"]:.2f}'
    assert same == ('the mean top-1 is the same to two decimals' in cls_flat)
    diff = s[ilif]['top1']['mean'] - s[v3]['top1']['mean']
    said = (f'{pm(v3, "top1", ".2f")}% top-1 over 3 seeds (14 epochs), '
            f'{abs(diff):.1f} points {"under" if diff > 0 else "over"} V2 '
            f'with I-LIF T=1 D=4 in {ratio(v3, ilif, "train_seconds")} its '
            f'training time at {ratio(v3, ilif, "energy_mJ")} its energy')
    assert said in readme, said


def test_other_variants_are_their_committed_run_record():
    """The classification README's second binary/integer table (the
    variants the first leaves out, 14 epochs, on an AMD EPYC) holds the
    rows its committed record's table gives, and the sentence drawn from
    it quotes that record's means and spreads (and the first record's
    I-LIF T=1 D=4)."""
    sct, rec, cls = committed_table(
        'docs/results/spike_counts_2026-12-07b.json')
    assert sorted(rec['results']) == sorted(
        ['lif-t1', 'lif-t2', 'ilif-t1-d2', 'ilif-t2-d2', 'quant-t2-d2'])
    assert all(len(runs) == 3 for runs in rec['results'].values())
    s = {n: sct.summarise(runs) for n, runs in rec['results'].items()}
    xeon = {n: sct.summarise(runs) for n, runs in committed_table(
        SPIKE_RECORD)[1]['results'].items()}

    def pm(sums, name):
        t = sums[name]['top1']
        return f'{t["mean"]:.2f} ± {t["std"]:.2f}'
    above = s['ilif-t2-d2']['top1']['mean'] - s['quant-t2-d2']['top1']['mean']
    flat = ' '.join(cls.split())
    for said in (
            f'(I-LIF T=1 D=2 {pm(s, "ilif-t1-d2")}% against binary T=1\'s '
            f'{pm(s, "lif-t1")}%)',
            f'T=2 x D=2 ({pm(s, "ilif-t2-d2")}%) stayed under T=1 x D=4 on '
            f'the Xeon ({pm(xeon, "ilif-t1-d4")}%;',
            f'(I-LIF T=2 D=2 {above:.2f} points above the quantised '
            f'activation without membrane, {pm(s, "quant-t2-d2")}%, about '
            'its spread)'):
        assert said in flat, said
    assert s['ilif-t1-d2']['top1']['mean'] <= s['lif-t1']['top1']['mean']
    assert s['ilif-t2-d2']['top1']['mean'] < \
        xeon['ilif-t1-d4']['top1']['mean']
