"""tools/analysis_tools/benchmark.py: runs, reports, refuses bad input."""
import json

import pytest

from conftest import run_py
from spikeformer_mm.analysis.benchmark import cpu_bf16_supported


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


def test_benchmark_tool_errors():
    r = run_py('tools/analysis_tools/benchmark.py', '--img-size', '32',
               '--with-cp', check=False)
    assert r.returncode != 0 and 'with_cp' in r.stderr
    if not cpu_bf16_supported():
        r = run_py('tools/analysis_tools/benchmark.py', '--img-size', '32',
                   '--dtype', 'bf16', '--fast', check=False)
        assert r.returncode != 0 and 'no native bf16' in r.stderr
