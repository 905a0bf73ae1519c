"""Export targets (spikeformer_mm/deploy/targets/): one table the engines,
the tools' choices and the benchmark's validity rules come from."""
import pathlib
import re

import pytest

from helpers import ROOT, run_py
from spikeformer_mm.deploy.engines import ENGINES
from spikeformer_mm.deploy.targets import (TARGETS, check_target_dtype,
                                           get_target)


def test_engines_are_torch_and_the_targets():
    assert ENGINES == ('torch', *TARGETS)
    assert set(TARGETS) == {'onnxruntime', 'openvino'}


def test_unknown_target_and_unsupported_dtype_are_refused():
    with pytest.raises(ValueError, match=r"engine must be one of "
                       r"\('onnxruntime', 'openvino'\), got 'tensorrt'"):
        get_target('tensorrt')
    with pytest.raises(ValueError, match=r'--engine onnxruntime: fp32 or '
                       r'int8 \(its CPU provider has no bf16'):
        check_target_dtype('onnxruntime', 'bf16')
    check_target_dtype('openvino', 'bf16')


def test_the_benchmark_tool_offers_the_tables_engines():
    r = run_py('tools/analysis_tools/benchmark.py', '--engine', 'tensorrt',
               check=False)
    assert r.returncode == 2 and "choose from 'torch', 'onnxruntime', " \
        "'openvino'" in r.stderr


def test_no_engine_list_outside_the_table():
    """The engines' names appear as a list nowhere else in the package and
    the tools: a new target is a module and a row of TARGETS."""
    pattern = re.compile(r"'onnxruntime',\s*'openvino'|"
                         r"engine == '(onnxruntime|openvino)'")
    found = []
    for top in ('spikeformer_mm', 'tools'):
        for path in pathlib.Path(ROOT, top).rglob('*.py'):
            if 'targets' in path.parts:
                continue
            for i, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    found.append(f'{path.relative_to(ROOT)}:{i}')
    assert not found, found
