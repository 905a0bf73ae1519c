"""tools/analysis_tools/benchmark.py: runs, reports, refuses bad input."""
import json

import pytest

from helpers import run_py
from spikeformer_mm.compat import cpu_bf16_supported


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
@pytest.mark.parametrize('extra', [
    ['--mode', 'infer'], ['--mode', 'infer', '--fast'],
    ['--mode', 'train', '--fast', '--with-cp']])
def test_benchmark_tool_reports_speed_and_memory(tmp_path, extra):
    out = tmp_path / 'r.json'
    run_py('tools/analysis_tools/benchmark.py', '--arch', '15M', '--T', '2',
           '--batch', '1', '--img-size', '32', '--warmup', '0',
           '--repeats', '1', '--out', str(out), *extra)
    r = json.loads(out.read_text())
    assert r['img_per_s'] > 0 and r['peak_mem_mb'] > 0
    assert r['T'] == 2 and r['fast'] == ('--fast' in extra)
    assert r['with_cp'] == ('--with-cp' in extra)
    # the fast path runs NHWC on a CPU; inference deploys the form
    # measured fastest for the dtype
    assert r['channels_last'] == ('--fast' in extra)
    if '--fast' in extra and 'infer' in extra:
        assert r['rep_conv'] == 'factorised'


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
@pytest.mark.needs_native_bf16
def test_benchmark_fast_bf16_choices(tmp_path):
    out = tmp_path / 'r.json'
    run_py('tools/analysis_tools/benchmark.py', '--arch', '15M', '--T', '1',
           '--batch', '1', '--img-size', '32', '--warmup', '0',
           '--repeats', '1', '--out', str(out), '--fast', '--dtype', 'bf16',
           '--rep-conv', 'dense', '--no-channels-last')
    r = json.loads(out.read_text())
    assert r['rep_conv'] == 'dense' and r['channels_last'] is False


@pytest.mark.e2e  # runs the tool in a subprocess: in make test, not test-fast
def test_benchmark_tool_errors():
    r = run_py('tools/analysis_tools/benchmark.py', '--img-size', '32',
               '--with-cp', check=False)
    assert r.returncode != 0 and 'with_cp' in r.stderr
    r = run_py('tools/analysis_tools/benchmark.py', '--img-size', '32',
               '--rep-conv', 'dense', check=False)
    assert r.returncode != 0 and 'use them with --fast' in r.stderr
    if not cpu_bf16_supported():
        r = run_py('tools/analysis_tools/benchmark.py', '--img-size', '32',
                   '--dtype', 'bf16', '--fast', check=False)
        assert r.returncode != 0 and 'no native bf16' in r.stderr


@pytest.mark.e2e
def test_precision_agreement_tool(tmp_path):
    """fp32 vs bf16 on the classification demo's val set (2 batches):
    both metric sets and an agreement fraction come back."""
    import torch
    from mmengine.config import Config

    from spikeformer_mm.apis import init_model
    cfg_path = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
    torch.manual_seed(0)
    model = init_model(Config.fromfile(cfg_path))
    ckpt = tmp_path / 'c.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    out = tmp_path / 'p.json'
    run_py('tools/analysis_tools/precision_agreement.py', cfg_path,
           str(ckpt), '--max-batches', '2', '--out', str(out),
           '--cfg-options', 'test_dataloader.batch_size=8')
    r = json.loads(out.read_text())
    assert r['num_samples'] == 16 and r['compared'] == 16
    assert 0.0 <= r['agreement'] <= 1.0
    for key in ('metrics_fp32', 'metrics_low'):
        assert 0 <= r[key]['accuracy/top1'] <= 100
    # the fast bf16 inference model (deployed, NHWC, bf16 weights)
    run_py('tools/analysis_tools/precision_agreement.py', cfg_path,
           str(ckpt), '--max-batches', '1', '--out', str(out), '--fast',
           '--cfg-options', 'test_dataloader.batch_size=8')
    r = json.loads(out.read_text())
    assert r['fast'] is True and r['compared'] == 8
    r = run_py('tools/analysis_tools/precision_agreement.py', cfg_path,
               str(tmp_path / 'missing.pth'), check=False)
    assert r.returncode != 0 and 'checkpoint not found' in r.stderr


def test_suite_rows_include_engines_and_bf16_only_where_native():
    import importlib.util
    import os.path as osp

    from helpers import ROOT
    spec = importlib.util.spec_from_file_location(
        'suite', osp.join(ROOT, 'tools/analysis_tools/benchmark_suite.py'))
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    engines = ['onnxruntime', 'openvino']
    rows = suite.runs('cpu', '15M', False, False, engines)
    eng = [r for r in rows if r.get('engine')]
    # CPU inference at T=1 and T=4, fp32 and int8 only without native bf16
    assert {(r['T'], r['mode'], r['engine'], r['dtype']) for r in eng} == {
        (T, 'infer', e, d) for T in (1, 4) for e in engines
        for d in ('fp32', 'int8')}
    assert not any(r['dtype'] == 'bf16' for r in rows)
    rows = suite.runs('cpu', '15M', False, True, engines)
    assert {r['engine'] for r in rows if r.get('engine') and
            r['dtype'] == 'bf16'} == {'openvino'}
    assert not any(r.get('engine') for r in
                   suite.runs('cuda', '15M', False, True, engines))


def test_suite_writes_a_run_record_and_never_replaces_one(tmp_path,
                                                          monkeypatch):
    """``--record``: every row's result, the table with ratios to the plain
    row, the command, CPU, torch and commit; an existing record is refused
    before any row runs, and kept."""
    import importlib.util
    import json
    import os.path as osp
    import subprocess
    import types

    from helpers import ROOT
    spec = importlib.util.spec_from_file_location(
        'suite', osp.join(ROOT, 'tools/analysis_tools/benchmark_suite.py'))
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    real_run = subprocess.run
    ran = []

    def fake_run(cmd, *a, **k):  # a row: write benchmark.py's result
        if not any(str(c).endswith('benchmark.py') for c in cmd):
            return real_run(cmd, *a, **k)
        ran.append(cmd)
        fast = '--fast' in cmd
        out = cmd[cmd.index('--out') + 1]
        with open(out, 'w') as f:
            json.dump(dict(T=1, mode='infer', batch=4, dtype='fp32',
                           fast=fast, img_per_s=6.0 if fast else 2.0,
                           peak_mem_mb=10.0, peak_rss_mb=100.0,
                           cpu_capability='AVX2'), f)
        return types.SimpleNamespace(returncode=0)
    monkeypatch.setattr(subprocess, 'run', fake_run)
    monkeypatch.setattr(suite, 'runs', lambda *a: [
        dict(arch='15M', T=1, batch=4, mode='infer', dtype='fp32',
             fast=f) for f in (False, True)])
    rec = tmp_path / 'speed.json'
    argv = ['--out-dir', str(tmp_path / 'b'), '--record', str(rec)]
    suite.main(argv)
    r = json.loads(rec.read_text())
    assert r['command'] == ('python tools/analysis_tools/benchmark_suite.py '
                            + ' '.join(argv))
    assert [row['img_per_s'] for row in r['rows']] == [2.0, 6.0]
    assert '| 1 | infer | 4 | fast | fp32 | 6.00 | 3.00 |' in r['table']
    for k in ('cpu', 'torch', 'date', 'commit', 'cpu_capability'):
        assert k in r, k
    before = rec.read_text()
    with pytest.raises(SystemExit, match=f'--record {rec} exists'):
        suite.main(argv)
    assert len(ran) == 2 and rec.read_text() == before


SPEED_RECORD = 'docs/results/speed_cpu_2026-12-07.json'


def test_speed_figures_are_the_committed_run_record():
    """docs/speed.md's CPU table is the table benchmark_suite.py wrote in
    the committed record, and every ratio the README and docs/speed.md
    state is what the record's rows give (each row against the plain row
    of its T and mode)."""
    import os.path as osp

    from helpers import ROOT
    rec = json.load(open(osp.join(ROOT, SPEED_RECORD)))
    assert not rec['commit'].endswith('dirty')
    doc = open(osp.join(ROOT, 'docs/speed.md')).read()
    assert rec['table'] in doc
    flat = ' '.join(doc.split())
    readme = ' '.join(open(osp.join(ROOT, 'README.md')).read().split())

    def row(T, mode, path='plain', dtype='fp32'):
        (r, ) = [r for r in rec['rows'] if r['T'] == T and
                 r['mode'] == mode and r['dtype'] == dtype and
                 r.get('engine', 'torch') == (
                     path if path in ('onnxruntime', 'openvino')
                     else 'torch') and
                 (path in ('onnxruntime', 'openvino') or
                  r['fast'] == (path != 'plain')) and
                 bool(r.get('with_cp')) == (path == 'with_cp')]
        return r

    def x(T, mode, path, dtype, key='img_per_s'):
        return f'{row(T, mode, path, dtype)[key] / row(T, mode)[key]:.1f}x'

    def x2(T, mode, path, dtype, key):
        return f'{row(T, mode, path, dtype)[key] / row(T, mode)[key]:.2f}x'
    assert (f'inference {x(1, "infer", "fast", "bf16")} (T=1) / '
            f'{x(4, "infer", "fast", "bf16")} (T=4) faster than the plain '
            f'model in bf16, training {x(1, "train", "fast", "bf16")} / '
            f'{x(4, "train", "fast", "bf16")} at '
            f'{x2(4, "train", "fast", "bf16", "peak_rss_mb")} the peak RSS'
            ) in readme
    ov8 = row(1, 'infer', 'openvino', 'int8')['img_per_s']
    for said in (
            f'PyTorch: {x(1, "infer", "fast", "fp32")} (T=1) and '
            f'{x(4, "infer", "fast", "fp32")} (T=4) in fp32, '
            f'{x(1, "infer", "fast", "bf16")} and '
            f'{x(4, "infer", "fast", "bf16")} with the fast bf16 model',
            f'OpenVINO int8 {x(1, "infer", "openvino", "int8")} at T=1 '
            f'({ov8:.0f} img/s; {x(4, "infer", "openvino", "int8")} at T=4)',
            f'OpenVINO bf16 {x(1, "infer", "openvino", "bf16")} / '
            f'{x(4, "infer", "openvino", "bf16")}',
            f'its int8 gives {x(1, "infer", "onnxruntime", "int8")} / '
            f'{x(4, "infer", "onnxruntime", "int8")}',
            f'fast path {x(1, "train", "fast", "bf16")} at T=1 and '
            f'{x(4, "train", "fast", "bf16")} at T=4, with '
            f'{x2(4, "train", "fast", "bf16", "peak_rss_mb")} the plain '
            f'run\'s peak RSS at T=4; fp32 {x(1, "train", "fast", "fp32")} / '
            f'{x(4, "train", "fast", "fp32")}',
            f'least tensor memory ('
            f'{x2(4, "train", "with_cp", "fp32", "peak_mem_mb")}) and '
            f'{x2(4, "train", "with_cp", "fp32", "peak_rss_mb")} the RSS'):
        assert said in flat, said
