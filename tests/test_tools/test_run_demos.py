"""tools/run_demos.py's bookkeeping of seeds (the training runs themselves
are the e2e tests')."""
import os
import os.path as osp
import statistics

import pytest

from helpers import ROOT, load_tool, run_py


@pytest.fixture(scope='module')
def run_demos():
    return load_tool('tools/run_demos.py')


def test_spread_is_mean_sample_std_min_max(run_demos):
    runs = [dict(top1=97.5, seconds=10.0), dict(top1=98.5, seconds=12.0),
            dict(top1=96.0, seconds=11.0)]
    s = run_demos.spread(runs, ['top1'])
    assert s['top1'] == dict(mean=round(statistics.mean([97.5, 98.5, 96.0]),
                                        4),
                             std=round(statistics.stdev([97.5, 98.5, 96.0]),
                                       4),
                             min=96.0, max=98.5, n=3)
    assert s['seconds']['mean'] == 11.0
    assert run_demos.spread(runs[:1], ['top1'])['top1']['std'] == 0.0


def _record(path, cpu, top1s, config='configs/c.py'):
    import json
    runs = [dict(config=config, cpu=cpu, cpu_capability='AVX512',
                 torch='2.14.1', commit='abc1234', seed=i // 2,
                 kernel_set=('native', 'avx2')[i % 2], top1=v,
                 seconds=100.0 + i) for i, v in enumerate(top1s)]
    with open(path, 'w') as f:
        json.dump(dict(cpu=cpu, summary={'classification': dict(
            config=config, runs=runs)}), f)
    return str(path)


def test_pool_gives_the_spread_over_every_cpus_runs(run_demos, tmp_path):
    """--pool writes one record whose spread is over the runs of every
    record given, with each CPU's own spread beside it, each run saying
    the record it came from; nothing is trained."""
    import json
    a = _record(tmp_path / 'xeon.json', '2-core Xeon', [98.0, 97.5, 98.5,
                                                          98.2])
    b = _record(tmp_path / 'epyc.json', '2-core EPYC', [96.0, 97.0])
    out = tmp_path / 'pooled.json'
    run_demos.main(['--pool', a, b, '--tasks', 'classification',
                    '--record', str(out)])
    e = json.load(open(out))['summary']['classification']
    every = [98.0, 97.5, 98.5, 98.2, 96.0, 97.0]
    assert e['spread']['top1'] == dict(
        mean=round(statistics.mean(every), 4),
        std=round(statistics.stdev(every), 4), min=96.0, max=98.5, n=6)
    assert e['spread_by_cpu']['2-core EPYC']['top1']['std'] == round(
        statistics.stdev([96.0, 97.0]), 4)
    assert e['spread_by_cpu']['2-core Xeon']['top1']['n'] == 4
    assert e['spread_by_kernel_set']['avx2']['top1']['min'] == 97.0
    assert [r['record'] for r in e['runs']] == [a] * 4 + [b] * 2
    assert json.load(open(out))['pooled_from'] == [a, b]


def test_pool_refuses_what_it_cannot_pool_by_name(run_demos, tmp_path):
    import json
    a = _record(tmp_path / 'a.json', 'A', [98.0, 97.0])
    b = _record(tmp_path / 'b.json', 'B', [96.0, 97.0])
    other = _record(tmp_path / 'o.json', 'B', [96.0], config='other.py')
    bad = tmp_path / 'bad.json'
    rec = json.load(open(b))
    del rec['summary']['classification']['runs'][0]['cpu']
    bad.write_text(json.dumps(rec))
    bad = str(bad)
    out = str(tmp_path / 'p.json')
    for argv, said in (
            ([a, b, '--tasks', 'detection'], f'{a} has no task \'detection\''),
            ([a, str(tmp_path / 'none.json'), '--tasks', 'classification'],
             'none.json not found'),
            ([a, other, '--tasks', 'classification'], 'different configs'),
            ([a, '--tasks', 'classification'], 'two different run records'),
            ([a, a, '--tasks', 'classification'], 'two different run records'),
            ([a, bad, '--tasks', 'classification'],
             "a run of task 'classification' lacks ['cpu']")):
        with pytest.raises(SystemExit) as e:
            run_demos.main(['--pool', *argv, '--record', out])
        assert said in str(e.value), (said, str(e.value))
    with pytest.raises(SystemExit) as e:
        run_demos.main(['--pool', a, b, '--tasks', 'classification'])
    assert 'needs --record' in str(e.value)
    with pytest.raises(SystemExit) as e:
        run_demos.main(['--pool', a, b, '--tasks', 'classification',
                        '--seeds', '3', '--record', out])
    assert '--pool trains nothing: --seeds do not apply' in str(e.value)
    assert not osp.exists(out)


def test_dense_task_of_a_seed_starts_from_that_seeds_classifier(run_demos):
    summary = {'classification': {'runs': [
        dict(seed=0, checkpoint='a/seed0/epoch_12.pth'),
        dict(seed=1, checkpoint='a/seed1/epoch_12.pth')]}}
    assert run_demos.start_checkpoint(summary, 'classification', 1) == \
        'a/seed1/epoch_12.pth'
    assert run_demos.start_checkpoint(summary, 'classification', 2) is None
    assert run_demos.start_checkpoint(
        {'classification': {'checkpoint': 'c.pth'}}, 'classification',
        None) == 'c.pth'


def test_each_task_starts_from_its_start_tasks_run(run_demos):
    """The event detector starts from the event classifier of its seed
    and kernel set, the dense tasks from the image classifier's."""
    assert run_demos.TASKS['event-detection']['starts_from'] == 'event'
    assert run_demos.TASKS['event']['starts_from'] == 'classification'
    assert run_demos.TASKS['detection']['starts_from'] == 'classification'
    summary = {'classification': {'runs': [dict(seed=0, checkpoint='c.pth')]},
               'event': {'runs': [dict(seed=0, checkpoint='e.pth')]}}
    assert run_demos.start_checkpoint(summary, 'event', 0) == 'e.pth'
    assert run_demos.start_checkpoint(summary, 'event', 1) is None


def test_cls_checkpoint_does_not_stand_in_for_the_event_classifier(
        tmp_path):
    """--cls-checkpoint starts the tasks that start from the classifier;
    the event detector without an event run is refused, nothing trained."""
    ckpt = tmp_path / 'cls.pth'
    ckpt.write_bytes(b'x')
    r = run_py('tools/run_demos.py', '--tasks', 'event-detection',
               '--cls-checkpoint', str(ckpt), '--work-dir',
               str(tmp_path / 'w'), check=False)
    assert r.returncode == 1
    assert 'error: event-detection starts from the event task: run it ' \
        'first (--tasks event,event-detection' in r.stderr, r.stderr
    assert not (tmp_path / 'w' / 'event-detection').exists()


def test_bad_seeds_and_tasks_are_refused(tmp_path):
    r = run_py('tools/run_demos.py', '--seeds', '0', '--work-dir',
               str(tmp_path), check=False)
    assert r.returncode == 1 and 'error: --seeds must be >= 1' in r.stderr
    r = run_py('tools/run_demos.py', '--tasks', 'segmentation', '--seeds',
               '2', '--work-dir', str(tmp_path), check=False)
    assert r.returncode == 1 and 'same --seeds' in r.stderr


def test_train_iteration_seconds_sums_mmengines_iteration_times(run_demos,
                                                                 tmp_path):
    """The seconds in training iterations are the sum of every
    ``train/time`` the checkpoint's message hub holds (IterTimerHook's, one
    per iteration), read back through the safe loader; none recorded:
    None."""
    import torch
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_train_iteration_seconds')
    times = [0.25, 0.5, 0.25, 1.0]
    for t in times:
        hub.update_scalar('train/time', t)
    hub.update_scalar('val/time', 100.0)  # validation is not training
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict={}, message_hub=hub.state_dict()), ckpt)
    assert run_demos.train_iteration_seconds(str(ckpt)) == sum(times)
    torch.save(dict(state_dict={}), tmp_path / 'bare.pth')
    assert run_demos.train_iteration_seconds(
        str(tmp_path / 'bare.pth')) is None


def test_record_keeps_the_digest_of_each_built_dataset(run_demos, tmp_path):
    """The run record's ``data``: the digest of every dataset built under
    the data folder, nothing for a folder that is not one of ours."""
    from spikeformer_mm.datasets import build_dataset, dataset_digest
    build_dataset(str(tmp_path / 'digits_cls'), 'classification', size=8)
    (tmp_path / 'notes').mkdir()
    (tmp_path / 'notes' / 'x.txt').write_text('mine')
    got = run_demos.data_digests(str(tmp_path))
    assert got == {'digits_cls': dataset_digest(
        str(tmp_path / 'digits_cls'))}
    assert run_demos.data_digests(str(tmp_path / 'absent')) == {}


def test_kernel_sets_select_torchs_kernels(run_demos, monkeypatch):
    """A kernel set is the environment that makes torch dispatch to that
    instruction set: under 'avx2' torch reports AVX2 (on any x86 CPU with
    AVX2), and 'native' drops whatever the caller's environment set."""
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'avx2')
    monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'AVX2')
    env = run_demos.kernel_env('native')
    assert 'ATEN_CPU_CAPABILITY' not in env and \
        'ONEDNN_MAX_CPU_ISA' not in env
    assert run_demos.kernel_env('avx2')['ATEN_CPU_CAPABILITY'] == 'avx2'
    assert run_demos.cpu_capability('avx2') == 'AVX2'
    assert run_demos.cpu_capability('default') == 'DEFAULT'


def test_runs_of_each_seed_and_kernel_set_have_their_own_folder(run_demos):
    wd = 'w/classification'
    assert run_demos.run_dir(wd) == wd
    assert run_demos.run_dir(wd, 1) == 'w/classification/seed1'
    assert run_demos.run_dir(wd, 1, 'avx2') == \
        'w/classification/seed1-avx2'
    assert run_demos.run_dir(wd, None, 'avx2') == 'w/classification/avx2'


def test_dense_task_starts_from_the_classifier_of_its_kernel_set(run_demos):
    summary = {'classification': {'runs': [
        dict(seed=0, kernel_set='native', checkpoint='n0.pth'),
        dict(seed=0, kernel_set='avx2', checkpoint='a0.pth'),
        dict(seed=1, checkpoint='n1.pth')]}}  # a record before kernel sets
    cls = 'classification'
    assert run_demos.start_checkpoint(summary, cls, 0, 'avx2') == 'a0.pth'
    assert run_demos.start_checkpoint(summary, cls, 0, 'native') == 'n0.pth'
    assert run_demos.start_checkpoint(summary, cls, 1) == 'n1.pth'
    assert run_demos.start_checkpoint(summary, cls, 1, 'avx2') is None


def test_spread_is_over_seeds_and_kernel_sets_and_per_set(run_demos):
    runs = [dict(seed=s, kernel_set=k, top1=v, seconds=1.0)
            for (s, k), v in zip([(0, 'native'), (0, 'avx2'), (1, 'native'),
                                  (1, 'avx2')], [98.0, 94.0, 97.0, 96.0])]
    e = run_demos.task_entry('classification', runs)
    assert e['spread']['top1']['n'] == 4 and e['spread']['top1']['min'] == 94
    assert e['spread_by_kernel_set']['avx2']['top1']['mean'] == 95.0
    assert e['spread_by_kernel_set']['native']['top1']['mean'] == 97.5
    one = dict(kernel_set='native', top1=98.0, seconds=1.0)
    assert run_demos.task_entry('classification', [one]) is one


def test_bad_kernel_sets_and_an_existing_record_are_refused(tmp_path):
    r = run_py('tools/run_demos.py', '--kernel-sets', 'native,avx3',
               '--work-dir', str(tmp_path), check=False)
    assert r.returncode == 1 and "unknown ['avx3']" in r.stderr and \
        "'avx2'" in r.stderr
    rec = tmp_path / 'record.json'
    rec.write_text('{"mine": 1}')
    r = run_py('tools/run_demos.py', '--record', str(rec), '--work-dir',
               str(tmp_path), check=False)
    assert r.returncode == 1 and f'--record {rec} exists' in r.stderr
    assert rec.read_text() == '{"mine": 1}'


def test_provenance_names_cpu_torch_date_and_commit(run_demos):
    import datetime

    import torch
    p = run_demos.provenance()
    assert p['torch'] == torch.__version__
    assert p['date'] == datetime.date.today().isoformat()
    assert p['cpu'].startswith(f'{os.cpu_count()}-core ')
    assert p['commit'] is None or len(p['commit'].split('+')[0]) >= 7


DEMO_RECORD = 'docs/results/demo_2026-12-06.json'  # Xeon (AMX)
AMD_DEMO_RECORD = 'docs/results/demo_amd_2026-12-07b.json'  # AMD EPYC
POOLED_RECORD = 'docs/results/demo_pooled_2026-12-07.json'  # both
# the main table's task -> the record its range comes from: the pooled one
# where the recipe ran on both CPUs, the AMD one for the detector (its
# recipe changed after the Xeon's runs: norm_eval)
MAIN_TABLE = {'classification': POOLED_RECORD, 'detection': AMD_DEMO_RECORD,
              'segmentation': POOLED_RECORD}


def _load(path):
    import json
    with open(osp.join(ROOT, path)) as f:
        return json.load(f)


def cpu_name(cpu):
    """How the README names a record's CPU."""
    return 'AMD EPYC' if 'EPYC' in cpu else 'Xeon' if 'Xeon' in cpu else cpu


def cell(m, fmt, unit='', bold=True):
    b = '**' if bold else ''
    return (f'{b}{m["mean"]:{fmt}} ± {m["std"]:{fmt}}{unit}{b} '
            f'({m["min"]:{fmt}}-{m["max"]:{fmt}})')


def demo_cells():
    """The README's result cells of the main job's three tasks, computed
    from the run records run_demos.py wrote (mean ± sample std, then
    min-max): over both CPUs and each CPU's own where the task was pooled."""
    metric = {'classification': [('top1', '.2f', '%', 'top-1 {}')],
              'detection': [('bbox_mAP_50', '.3f', '', 'bbox mAP@0.5 {}'),
                            ('segm_mAP_50', '.3f', '', 'mask mAP@0.5 {}')],
              'segmentation': [('mIoU', '.2f', ' mIoU', '{}')]}
    out = {}
    for task, record in MAIN_TABLE.items():
        e = _load(record)['summary'][task]
        cells = [said.format(cell(e['spread'][k], fmt, unit))
                 for k, fmt, unit, said in metric[task]]
        for cpu, sp in e.get('spread_by_cpu', {}).items():
            k, fmt, unit, _ = metric[task][0]
            cells.append(f'{cpu_name(cpu)} {cell(sp[k], fmt, unit, False)}')
        out[task] = cells
    return out


def test_pooled_record_is_the_pool_of_its_committed_records(run_demos):
    """The pooled record is what pool_records gives today from the
    committed records it names (a changed source or pooled file fails)."""
    rec = _load(POOLED_RECORD)
    assert rec['pooled_from'] == [DEMO_RECORD, AMD_DEMO_RECORD]
    tasks = list(rec['summary'])
    assert tasks == ['classification', 'segmentation']
    again = run_demos.pool_records(
        [osp.join(ROOT, p) for p in rec['pooled_from']],
        {t: list(run_demos.TASKS[t]['metrics']) for t in tasks})
    for t in tasks:
        for r in again[t]['runs']:
            r['record'] = osp.relpath(r['record'], ROOT)
        assert again[t] == rec['summary'][t], t


def test_readme_demo_figures_are_the_committed_run_record():
    """Every figure of the README's main-job table is what the committed
    run records give: the classifier and the segmenter over the Xeon's and
    the AMD EPYC's runs (the pooled record) and each CPU's own, the
    detector over the AMD EPYC's runs; each record holds what the README
    says it does: 3 seeds x 2 kernel sets per task and CPU, each run with
    its CPU capability, CPU, torch, date and commit."""
    readme = open(osp.join(ROOT, 'README.md')).read()
    row = {}  # the main-job table's row of each task (the first row)
    for ln in readme.splitlines():
        if ln.startswith('| '):
            row.setdefault(ln.split('|')[1].strip(), ln)
    for task, cells in demo_cells().items():
        for c in cells:
            assert c in row[task], (task, c)
    for path in (DEMO_RECORD, AMD_DEMO_RECORD):
        rec = _load(path)
        assert not rec['commit'].endswith('dirty')
        for task in ('classification', 'detection', 'segmentation'):
            runs = rec['summary'][task]['runs']
            assert sorted((r['seed'], r['kernel_set']) for r in runs) == \
                sorted((s, k) for s in range(3) for k in ('native', 'avx2'))
            for r in runs:
                assert r['cpu_capability'] == (
                    'AVX2' if r['kernel_set'] == 'avx2'
                    else rec['cpu_capability'])
                assert {'cpu', 'torch', 'date', 'commit', 'seconds',
                        'train_seconds', 'config'} <= set(r)
    # seed 0 under each kernel set on each CPU, mAP@[.5:.95], the means per
    # kernel set, the times
    amd, xeon = (_load(p)['summary'] for p in (AMD_DEMO_RECORD, DEMO_RECORD))
    text = ' '.join(readme.split())

    def seed0(s, task, key, fmt):
        v = {r['kernel_set']: r[key] for r in s[task]['runs']
             if r['seed'] == 0}
        return f'{v["native"]:{fmt}} / {v["avx2"]:{fmt}}'
    for task, key, fmt, unit in (('classification', 'top1', '.2f', '%'),
                                 ('segmentation', 'mIoU', '.2f', '')):
        assert (f'| Xeon {seed0(xeon, task, key, fmt)}{unit}, AMD EPYC '
                f'{seed0(amd, task, key, fmt)}{unit} |') in row[task], task
    assert f'| AMD EPYC {seed0(amd, "detection", "bbox_mAP_50", ".3f")} |' \
        in row['detection']
    det = amd['detection']['spread']
    assert (f'mAP@[.5:.95] {det["bbox_mAP"]["mean"]:.3f} / '
            f'{det["segm_mAP"]["mean"]:.3f}') in row['detection']
    old = xeon['detection']['spread']['bbox_mAP_50']
    assert f"the Xeon's runs before it: {cell(old, '.3f', '', False)}" in \
        row['detection']

    def per_set(s, task, key, fmt):
        k = s[task]['spread_by_kernel_set']
        return (f'{k["native"][key]["mean"]:{fmt}} / '
                f'{k["avx2"][key]["mean"]:{fmt}}')
    pooled = _load(POOLED_RECORD)['summary']
    assert (f'the means are {per_set(pooled, "classification", "top1", ".2f")}'
            f'% top-1, {per_set(amd, "detection", "bbox_mAP_50", ".3f")} '
            f'bbox mAP@0.5 and {per_set(pooled, "segmentation", "mIoU", ".2f")}'
            ' mIoU (native / AVX2)') in text

    def seconds(s, task):
        v = [r['seconds'] for r in s[task]['runs']]
        return f'{min(v):.0f}-{max(v):.0f} s per'
    for s in (xeon, amd):
        for task in ('classification', 'detection', 'segmentation'):
            assert seconds(s, task) in text, (task, seconds(s, task))


AMD_RECORD = 'docs/results/demo_amd_2026-12-07.json'
# task -> the record of the range the README states for it, the metric,
# its format and how the README's paragraph on the second CPU names it
SECOND_CPU = {
    'classification': (DEMO_RECORD, 'top1', '.2f', 'top-1 {}%'),
    'detection': (DEMO_RECORD, 'bbox_mAP_50', '.3f', 'bbox mAP@0.5 {}'),
    'segmentation': (DEMO_RECORD, 'mIoU', '.2f', '{} mIoU'),
    'event': ('docs/results/event_digits_2026-12-06.json', 'top1', '.2f',
              "the event classifier's top-1 {}%"),
    'event-detection': ('docs/results/event_detection_demo_2026-12-07b.json',
                        'bbox_mAP_50', '.3f',
                        "the event detector's bbox mAP@0.5 {}"),
}


def test_second_cpu_figures_are_their_run_record():
    """The README's paragraph on the AMD EPYC: each task's seed 0 under
    native / AVX2 kernels is what its record gives (written by run_demos.py
    on that CPU), and is said to be inside, or under the minimum of, the
    range the README states for the task (its own record's minimum); the
    detector's tries there are their record's."""
    rec = _load(AMD_RECORD)
    assert 'AMD EPYC' in rec['cpu'] and rec['cpu_capability'] == 'AVX512'
    assert not rec['commit'].endswith('dirty') and '--seeds 1' in \
        rec['command'] and '--kernel-sets native,avx2' in rec['command']
    text = ' '.join(open(osp.join(ROOT, 'README.md')).read().split())
    for task, (range_record, key, fmt, said) in SECOND_CPU.items():
        runs = {r['kernel_set']: r for r in rec['summary'][task]['runs']}
        assert set(runs) == {'native', 'avx2'} and all(
            r['seed'] == 0 and r['cpu_capability'] == (
                'AVX2' if k == 'avx2' else 'AVX512') for k, r in runs.items())
        lo = _load(range_record)['summary'][task]['spread'][key]['min']
        v = {k: runs[k][key] for k in runs}
        under = [n for n, k in (('native', 'native'), ('AVX2', 'avx2'))
                 if v[k] < lo]
        verdict = ('inside its range' if not under else
                   f'{"both" if len(under) == 2 else under[0]} under its '
                   f'minimum, {lo:{fmt}}')
        figure = said.format(f'{v["native"]:{fmt}} / {v["avx2"]:{fmt}}')
        assert f'{figure} ({verdict})' in text, (figure, verdict)
    tries = _load('docs/results/detection_amd_tries_2026-12-07.json')
    got = {t['name']: t['bbox_mAP_50'] for t in tries['tried']}
    v = {r['kernel_set']: r['bbox_mAP_50']
         for r in rec['summary']['detection']['runs']}
    assert tries['baseline']['bbox_mAP_50'] == v['native']
    said = (f'2 threads gave {got["two-threads"]:.3f} again (other '
            f'weights), an EMA of the weights {got["ema"]:.3f} and lr 2e-3 '
            f'{got["lr2e-3"]:.3f}')
    assert said in text, said
    det = ' '.join(open(osp.join(ROOT, 'configs/detection/README.md'))
                   .read().split())
    lo_hi = _load(DEMO_RECORD)['summary']['detection']['spread'][
        'bbox_mAP_50']
    for said in (f'it gave {v["native"]:.3f} natively and {v["avx2"]:.3f} '
                 'under AVX2 kernels, both under the Xeon\'s '
                 f'{lo_hi["min"]:.3f}-{lo_hi["max"]:.3f}',
                 f'2 threads instead of one, {got["two-threads"]:.3f}',
                 f'as the classifier\'s), {got["ema"]:.3f}; lr 2e-3, '
                 f'{got["lr2e-3"]:.3f}'):
        assert said in det, said


NORM_EVAL_TRIES = 'docs/results/detection_amd_tries_2026-12-07b.json'


def test_norm_eval_tries_are_their_record():
    """The detection README's account of norm_eval: each try is its
    record's, each baseline the AMD record's run it was tried against, the
    AMD EPYC's spread with norm_eval the 3-seed record's; and the configs
    ship what it says (the dense demo detector freezes the statistics, the
    spiking and event detectors do not)."""
    from mmengine import Config
    tries = {t['name']: t for t in _load(NORM_EVAL_TRIES)['tried']}
    base = _load(AMD_RECORD)['summary']
    for t in tries.values():
        key = 'mIoU' if t['task'] == 'segmentation' else 'bbox_mAP_50'
        (run, ) = [r for r in base[t['task']]['runs']
                   if r['kernel_set'] == t['kernel_set']]
        assert t['baseline_' + key] == run[key], t['name']
        assert 'model.backbone.norm_eval=True' in t['command']
    det = ' '.join(open(osp.join(ROOT, 'configs/detection/README.md'))
                   .read().split())
    amd = _load(AMD_DEMO_RECORD)['summary']['detection']
    sec = [r['seconds'] for r in amd['runs']]
    for said in (
            f'{tries["normeval"]["bbox_mAP_50"]:.3f} natively ('
            f'{tries["normeval-lr2e-3"]["bbox_mAP_50"]:.3f} at lr 2e-3) and '
            f'{tries["normeval-avx2"]["bbox_mAP_50"]:.3f} under AVX2 kernels',
            f'bbox mAP@0.5 {cell(amd["spread"]["bbox_mAP_50"], ".3f", "", False)}'
            f', {min(sec):.0f}-{max(sec):.0f} s per run',
            f'gave {tries["seg-normeval"]["mIoU"]:.2f} mIoU with `norm_eval` '
            f'against {tries["seg-normeval"]["baseline_mIoU"]:.2f} without',
            f'{tries["evdet-normeval"]["bbox_mAP_50"]:.3f} against '
            f'{tries["evdet-normeval"]["baseline_bbox_mAP_50"]:.3f} bbox '
            'mAP@0.5'):
        assert said in det, said
    spk = _load('docs/results/detection_spiking_normeval_amd_2026-12-07.json')
    got = {t['name']: t['bbox_mAP_50'] for t in spk['tried']}
    (d0, ) = [r['bbox_mAP_50'] for r in amd['runs']
              if (r['seed'], r['kernel_set']) == (0, 'native')]
    assert spk['dense_bbox_mAP_50'] == d0
    # the try is the 3-seed record's run of the same seed and kernel set
    (s0, ) = [r['bbox_mAP_50'] for r in _load(AMD_SPIKING_RECORD)[
        'summary']['detection-spiking']['runs']
        if (r['seed'], r['kernel_set']) == (0, 'native')]
    assert s0 == got['spk-normeval']
    assert (f'gave {got["spk-normeval"]:.3f} bbox mAP@0.5 with it against '
            f'{got["spk-base"]:.3f} without, {d0 - got["spk-normeval"]:.3f} '
            f'under the dense detector\'s {d0:.3f}') in det
    seg = ' '.join(open(osp.join(ROOT, 'configs/segmentation/README.md'))
                   .read().split())
    t = tries['seg-normeval']
    assert (f'BatchNorms gave {t["mIoU"]:.2f} against {t["baseline_mIoU"]:.2f}'
            ' mIoU') in seg
    frozen = {'configs/detection/mask-rcnn_metaspikeformer-demo_fpn_'
              'digits-t2.py': True,
              'configs/detection/mask-rcnn_metaspikeformer-demo_spikefpn_'
              'digits-t2.py': True,
              'projects/event_digits/configs/faster-rcnn_metaspikeformer-'
              'demo_fpn_moving-digits-t2.py': False}
    for path, want in frozen.items():
        assert Config.fromfile(osp.join(ROOT, path)).model.backbone[
            'norm_eval'] is want, path


def test_smoke_floors_are_under_every_committed_bounded_run():
    """Each floor the e2e tests hold the bounded runs to sits under every
    run of each committed record of its task (3 seeds x native and AVX2
    kernels), at most 80% of the lowest and under mean - 3 std, so only a
    recipe that stops learning fails it; where a record's spread puts mean
    - 3 std under an untrained model's value (``WIDE``, floors.py says
    which and why), the floor still sits over that value."""
    import json

    from helpers.floors import SMOKE_FLOORS, SMOKE_RECORDS, UNTRAINED, WIDE
    seen = set()
    for path in SMOKE_RECORDS:
        rec = json.load(open(osp.join(ROOT, path)))
        assert '--smoke' in rec['command'] and not rec['commit'].endswith(
            'dirty'), path
        for (task, key), floor in SMOKE_FLOORS.items():
            if task not in rec['summary']:
                continue
            seen.add(task)
            runs = rec['summary'][task]['runs']
            assert sorted((r['seed'], r['kernel_set']) for r in runs) == [
                (s, k) for s in range(3) for k in ('avx2', 'native')], task
            values = [r[key] for r in runs]
            spread = rec['summary'][task]['spread'][key]
            assert floor <= 0.8 * min(values), (path, task, floor, values)
            assert floor > UNTRAINED[key], (task, floor)
            three_std = spread['mean'] - 3 * spread['std']
            if (path, task) in WIDE:
                assert three_std < UNTRAINED[key], (path, task, spread)
            else:
                assert floor <= three_std, (path, task, spread)
    assert seen == {t for t, _ in SMOKE_FLOORS}


def test_event_detection_floor_is_under_its_rerecorded_bounded_runs():
    """The bounded event detector's re-recorded chain (floors.py says why
    it is not among SMOKE_RECORDS): the figures floors.py gives are the
    record's, its spread puts mean - 3 std below 0, and the floor sits
    under 80% of every run and over 0."""
    import json

    from helpers import floors
    rec = json.load(open(osp.join(
        ROOT, 'docs/results/smoke_event_2026-12-07.json')))
    assert '--smoke' in rec['command'] and not rec['commit'].endswith(
        'dirty')
    entry = rec['summary']['event-detection']
    values = [r['bbox_mAP_50'] for r in entry['runs']]
    assert len(values) == 6
    s = entry['spread']['bbox_mAP_50']
    doc = ' '.join(floors.__doc__.split())
    assert (f'bbox mAP@0.5 {s["mean"]:.3f} +- {s["std"]:.2g} '
            f'({s["min"]:.3f}-{s["max"]:.3f})') in doc
    assert s['mean'] - 3 * s['std'] < 0
    floor = floors.SMOKE_FLOORS['event-detection', 'bbox_mAP_50']
    assert 0 < floor <= 0.8 * min(values)
    assert f'the floor is {floor}, under 80% of its lowest run ' \
        f'({0.8 * min(values):.3f})' in doc


SPIKING_RECORD = 'docs/results/detection_spiking_2026-12-07.json'  # Xeon
# the recipe since 2026-12-07 (norm_eval), on the AMD EPYC
AMD_SPIKING_RECORD = 'docs/results/detection_spiking_amd_2026-12-07.json'


def test_readme_spiking_detector_figures_are_the_committed_run_record():
    """The fully spiking detector's README row (spread over 3 seeds x
    native/AVX2 kernels, minutes per run) and its gap to the dense
    detector (per run against the dense one of the same seed and kernel
    set in the main job's record of the same CPU) are what the committed
    records give; each run started from that record's classifier of its
    seed and kernel set, and both detectors freeze the backbone's
    BatchNorm statistics as the records were made."""
    import json
    import statistics
    from mmengine import Config

    readme = open(osp.join(ROOT, 'README.md')).read()
    text = ' '.join(readme.split())
    rec = json.load(open(osp.join(ROOT, AMD_SPIKING_RECORD)))
    assert '--kernel-sets native,avx2' in rec['command'] and \
        not rec['commit'].endswith('dirty')
    e = rec['summary']['detection-spiking']
    runs = e['runs']
    assert sorted((r['seed'], r['kernel_set']) for r in runs) == [
        (s, k) for s in range(3) for k in ('avx2', 'native')]

    def cell(key):
        m = e['spread'][key]
        return (f'**{m["mean"]:.3f} ± {m["std"]:.3f}** '
                f'({m["min"]:.3f}-{m["max"]:.3f})')
    sec = [r['seconds'] for r in runs]
    row = (f'| bbox mAP@0.5 {cell("bbox_mAP_50")}, mask '
           f'{cell("segm_mAP_50")}; 3 seeds x native/AVX2 kernels on the '
           f'AMD EPYC, `{AMD_SPIKING_RECORD}` | {min(sec) / 60:.1f}-'
           f'{max(sec) / 60:.1f} min |')
    assert row in readme, row
    demo_rec = json.load(open(osp.join(ROOT, AMD_DEMO_RECORD)))
    assert demo_rec['cpu'] == rec['cpu']
    demo = demo_rec['summary']
    dense = {(r['seed'], r['kernel_set']): r
             for r in demo['detection']['runs']}
    classifier = {(r['seed'], r['kernel_set']): r['checkpoint']
                  for r in demo['classification']['runs']}
    gaps = []
    for r in runs:
        key = (r['seed'], r['kernel_set'])
        assert r['options'][0] == (
            'model.backbone.init_cfg.checkpoint=' + classifier[key]), key
        gaps.append(dense[key]['bbox_mAP_50'] - r['bbox_mAP_50'])
    assert (f'it is {statistics.mean(gaps):.3f} below the dense one on '
            f'average, {min(gaps):.3f} to {max(gaps):.3f} per run') in text
    assert max(gaps) < 0.05 and 'is within the paper\'s claim' in text
    for r in (runs[0], demo['detection']['runs'][0]):
        assert Config.fromfile(osp.join(ROOT, r['config'])).model.backbone[
            'norm_eval'] is True, r['config']


def detector_gaps(dense_runs, spiking_runs):
    """Per fully spiking run, the bbox mAP@0.5 of the dense detector of the
    same seed and kernel set minus its own."""
    dense = {(r['seed'], r['kernel_set']): r['bbox_mAP_50']
             for r in dense_runs}
    return [dense[(r['seed'], r['kernel_set'])] - r['bbox_mAP_50']
            for r in spiking_runs]


def test_detection_readme_norm_eval_table_is_the_committed_records():
    """configs/detection/README.md's dense vs fully spiking table with
    ``norm_eval`` (the AMD EPYC's records of both, from the same
    classifiers) and the gap under it are the run records'."""
    import statistics

    text = open(osp.join(ROOT, 'configs/detection/README.md')).read()
    flat = ' '.join(text.split())
    entries = {'dense': _load(AMD_DEMO_RECORD)['summary']['detection'],
               'fully spiking': _load(AMD_SPIKING_RECORD)['summary'][
                   'detection-spiking']}

    def spread(e, key):
        m = e['spread'][key]
        return (f'{m["mean"]:.3f} ± {m["std"]:.3f} '
                f'({m["min"]:.3f}-{m["max"]:.3f})')
    for name, e in entries.items():
        (line, ) = [ln for ln in text.splitlines()
                    if ln.startswith(f'| {name} with `norm_eval` (')]
        cells = [c.strip() for c in line.split('|')[2:-1]]
        tr = [r['train_seconds'] / 60 for r in e['runs']]
        assert cells == [spread(e, 'bbox_mAP_50'), spread(e, 'segm_mAP_50'),
                         f'{e["spread"]["bbox_mAP"]["mean"]:.3f} / '
                         f'{e["spread"]["segm_mAP"]["mean"]:.3f}',
                         f'{min(tr):.1f}-{max(tr):.1f} min'], (name, cells)
    gaps = detector_gaps(entries['dense']['runs'],
                         entries['fully spiking']['runs'])
    assert (f'{statistics.mean(gaps):.3f} mAP@0.5 below the dense one on '
            f'average, {min(gaps):.3f} to {max(gaps):.3f} per run (against '
            'the dense detector of the same seed and kernel set): within '
            'the paper\'s claim') in flat


def test_detection_readme_table_is_the_committed_records():
    """configs/detection/README.md's dense vs fully spiking table and the
    sentences under it are the run records (both detectors over 3 seeds x
    native/AVX2 kernels) and the committed energy reports."""
    import json
    import statistics

    text = open(osp.join(ROOT, 'configs/detection/README.md')).read()
    flat = ' '.join(text.split())
    demo = json.load(open(osp.join(ROOT, DEMO_RECORD)))['summary']
    spiking = json.load(open(osp.join(ROOT, SPIKING_RECORD)))['summary']
    energy = json.load(open(osp.join(
        ROOT, 'docs/results/energy_demo_2026-12-06.json')))['runs']
    entries = {'dense': (demo['detection'], energy['detection']),
               'fully spiking': (spiking['detection-spiking'],
                                 energy['detection-spiking'])}

    def spread(e, key):
        m = e['spread'][key]
        return (f'{m["mean"]:.3f} ± {m["std"]:.3f} '
                f'({m["min"]:.3f}-{m["max"]:.3f})')
    train = {}
    for name, (e, en) in entries.items():
        (line, ) = [ln for ln in text.splitlines()
                    if ln.startswith(f'| {name} (')]
        cells = [c.strip().strip('*') for c in line.split('|')[2:-1]]
        tr = [r['train_seconds'] / 60 for r in e['runs']]
        train[name] = statistics.mean(tr)
        want = [spread(e, 'bbox_mAP_50'), spread(e, 'segm_mAP_50'),
                f'{e["spread"]["bbox_mAP"]["mean"]:.3f} / '
                f'{e["spread"]["segm_mAP"]["mean"]:.3f}',
                f'{min(tr):.1f}-{max(tr):.1f} min',
                f'{en["macs"] / 1e6:.1f} M', f'{en["sops"] / 1e6:.1f} M',
                f'{en["measured_mJ"]:.3f} / {en["paper_mJ"]:.3f}']
        assert cells[:6] == want[:6], (name, cells, want)
        assert cells[6].startswith(want[6]), (name, cells[6], want[6])
        assert f'{en["dense_share"]["measured"]:.0%} of the dense' in flat \
            if name == 'dense' else \
            f'{en["dense_share"]["measured"]:.0%} of the spiking' in flat
    d, s = energy['detection'], energy['detection-spiking']
    assert (f'({d["measured_mJ"] / s["measured_mJ"]:.1f}x / '
            f'{d["paper_mJ"] / s["paper_mJ"]:.1f}x lower)') in flat
    slower = train['fully spiking'] / train['dense']
    assert 1.5 <= slower <= 2.0 and 'trains 1.5-2x slower' in flat
    gaps = detector_gaps(demo['detection']['runs'],
                         spiking['detection-spiking']['runs'])
    assert (f'spiking detector was {statistics.mean(gaps):.3f} mAP@0.5 '
            f'below the dense one on average, {min(gaps):.3f} to '
            f'{max(gaps):.3f} per run') in flat


def test_record_holds_every_run_with_its_provenance(run_demos, tmp_path,
                                                    monkeypatch):
    """``--record``: the command, the native CPU capability, CPU, torch,
    date and commit, and each task's runs and spread as the summary holds
    them (the training itself faked: the e2e tests run it)."""
    import json

    def fake_task(name, work_root, smoke, extra, seed=None,
                  kernel_set='native', threads=None, log=None, nproc=1):
        return dict(config='c.py', checkpoint='x.pth', top1=90.0 + seed,
                    seconds=1.0, seed=seed, kernel_set=kernel_set)
    monkeypatch.setattr(run_demos, 'run_task', fake_task)
    rec = tmp_path / 'rec.json'
    argv = ['--tasks', 'classification', '--seeds', '2', '--work-dir',
            str(tmp_path / 'w'), '--record', str(rec)]
    run_demos.main(argv)
    r = json.loads(rec.read_text())
    assert r['command'] == 'python tools/run_demos.py ' + ' '.join(argv)
    assert r['cpu_capability'] == run_demos.cpu_capability()
    assert {'cpu', 'torch', 'date', 'commit'} <= set(r)
    runs = r['summary']['classification']['runs']
    assert [x['top1'] for x in runs] == [90.0, 91.0]
    assert all(x['commit'] == r['commit'] for x in runs)
    assert r['summary']['classification']['spread']['top1']['n'] == 2


def test_jobs_train_runs_side_by_side_in_order(run_demos, tmp_path,
                                               monkeypatch):
    """``--jobs 2``: two runs at once (their spans overlap), each with
    cores // 2 threads and its own log beside its folder; the entries keep
    the order of seeds x kernel sets and say how they ran."""
    import threading
    import time
    spans, lock = {}, threading.Lock()

    def fake_task(name, work_root, smoke, extra, seed=None,
                  kernel_set='native', threads=None, log=None, nproc=1):
        t0 = time.monotonic()
        time.sleep(0.3 if seed == 0 else 0.1)
        with lock:
            spans[(seed, kernel_set)] = (t0, time.monotonic(), threads, log)
        return dict(config='c.py', checkpoint='x.pth', top1=90.0 + seed,
                    seconds=1.0, seed=seed, kernel_set=kernel_set)
    monkeypatch.setattr(run_demos, 'run_task', fake_task)
    monkeypatch.setattr(run_demos, 'cores', lambda: 4)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    wd = tmp_path / 'w'
    run_demos.main(['--tasks', 'classification', '--seeds', '2',
                    '--kernel-sets', 'native,avx2', '--jobs', '2',
                    '--work-dir', str(wd)])
    (a0, a1, th, log), (b0, b1, *_) = spans[(0, 'native')], spans[(0, 'avx2')]
    assert a0 < b1 and b0 < a1  # side by side
    assert th == 2 and log == str(wd / 'classification' / 'seed0.log')
    assert spans[(1, 'avx2')][3] == str(
        wd / 'classification' / 'seed1-avx2.log')
    runs = run_demos.read_json(str(wd / 'summary.json'))[
        'classification']['runs']
    assert [(r['seed'], r['kernel_set']) for r in runs] == [
        (0, 'native'), (0, 'avx2'), (1, 'native'), (1, 'avx2')]
    assert all(r['threads'] == 2 and r['parallel_runs'] == 2 for r in runs)
    # one at a time, the threads the caller gave (or torch's default)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    run_demos.main(['--tasks', 'classification', '--seeds', '2',
                    '--work-dir', str(wd)])
    runs = run_demos.read_json(str(wd / 'summary.json'))[
        'classification']['runs']
    assert all(r['threads'] == 1 and r['parallel_runs'] == 1 for r in runs)
    monkeypatch.delenv('OMP_NUM_THREADS')
    run_demos.main(['--tasks', 'classification', '--seeds', '1',
                    '--work-dir', str(wd)])
    entry = run_demos.read_json(str(wd / 'summary.json'))[
        'classification']['runs'][0]
    assert (entry['threads'], entry['parallel_runs']) == ('default', 1)
    # the record keeps the digests of the embedded data
    run_demos.main(['--tasks', 'classification', '--seeds', '1',
                    '--work-dir', str(wd), '--record',
                    str(tmp_path / 'rec.json')])
    rec = run_demos.read_json(str(tmp_path / 'rec.json'))
    assert rec['data'] == run_demos.data_digests()
    r = run_py('tools/run_demos.py', '--jobs', '0', '--work-dir',
               str(tmp_path), check=False)
    assert r.returncode == 1 and 'error: --jobs must be >= 1' in r.stderr


def test_a_failed_run_names_its_log(run_demos, tmp_path):
    """A run whose output goes to a log (``--jobs``) fails with the
    command and the log named; the log holds the output and the thread
    count it ran with."""
    log = tmp_path / 'seed0.log'
    with pytest.raises(SystemExit) as e:
        run_demos.run(['-c', 'import os, sys; print("threads", '
                       'os.environ["OMP_NUM_THREADS"]); sys.exit(3)'],
                      threads=1, log=str(log))
    assert 'failed with exit code 3; its output: ' + str(log) in str(
        e.value)
    assert 'threads 1' in log.read_text()


def test_nproc_splits_the_batch_over_torchrun_processes(run_demos):
    """``--nproc 2``: tools/train.py under torchrun (``--launcher
    pytorch``), each process with half of the config's training batch
    (the event detector's 4, or the batch the options give), so that the
    recipe stays the config's; a batch that does not split is refused by
    name. One process: tools/train.py itself, the options as given."""
    cfg = run_demos.TASKS['event-detection']['config']
    assert run_demos.train_command(cfg, 'wd', ['a=1']) == [
        'tools/train.py', cfg, '--work-dir', 'wd', '--cfg-options', 'a=1']
    cmd = run_demos.train_command(cfg, 'wd', ['a=1'], nproc=2)
    assert cmd[:4] == ['-m', 'torch.distributed.run', '--standalone',
                       '--nproc-per-node=2']
    assert cmd[4:8] == ['tools/train.py', cfg, '--work-dir', 'wd']
    assert '--launcher' in cmd and cmd[cmd.index('--launcher') + 1] == \
        'pytorch'
    assert cmd[-2:] == ['a=1', 'train_dataloader.batch_size=2']
    cmd = run_demos.train_command(
        cfg, 'wd', ['train_dataloader.batch_size=6'], nproc=3)
    assert cmd[-1] == 'train_dataloader.batch_size=2'
    with pytest.raises(SystemExit) as e:
        run_demos.train_command(cfg, 'wd', [], nproc=3)
    assert str(e.value) == (f'error: --nproc 3: the training batch of {cfg} '
                            '(4) does not split into 3 equal parts')


def test_nproc_runs_give_each_process_its_share_of_the_cores(
        run_demos, tmp_path, monkeypatch):
    """``--nproc 2`` on 4 cores: one run at a time, each process with 2
    threads (with ``--jobs 2``, 1); every entry says how it ran."""
    seen = []

    def fake_task(name, work_root, smoke, extra, seed=None,
                  kernel_set='native', threads=None, log=None, nproc=1):
        seen.append((seed, threads, nproc, log))
        return dict(config='c.py', checkpoint='x.pth', top1=90.0,
                    seconds=1.0, seed=seed, kernel_set=kernel_set)
    monkeypatch.setattr(run_demos, 'run_task', fake_task)
    monkeypatch.setattr(run_demos, 'cores', lambda: 4)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    wd = tmp_path / 'w'
    run_demos.main(['--tasks', 'classification', '--seeds', '2', '--nproc',
                    '2', '--work-dir', str(wd)])
    assert seen == [(0, 2, 2, None), (1, 2, 2, None)]
    runs = run_demos.read_json(str(wd / 'summary.json'))[
        'classification']['runs']
    assert [(r['threads'], r['parallel_runs'], r['nproc']) for r in runs] \
        == [(2, 1, 2)] * 2
    seen.clear()
    run_demos.main(['--tasks', 'classification', '--seeds', '2', '--nproc',
                    '2', '--jobs', '2', '--work-dir', str(wd)])
    assert sorted(x[:3] for x in seen) == [(0, 1, 2), (1, 1, 2)]
    for bad in (['--nproc', '0'], ['--nproc', '2', '--pool', 'a.json']):
        r = run_py('tools/run_demos.py', *bad, '--work-dir', str(tmp_path),
                   '--record', str(tmp_path / 'p.json'), check=False)
        assert r.returncode == 1 and 'nproc' in r.stderr.splitlines()[-1]
