"""The repository passes its lint (ruff.toml: pycodestyle and pyflakes, as
OpenMMLab's flake8), so that `make test` fails on an unused import or an
overlong line anywhere."""
import subprocess
import sys

import pytest

from helpers import ROOT


def test_repository_passes_ruff():
    if subprocess.run([sys.executable, '-m', 'ruff', '--version'],
                      capture_output=True).returncode != 0:
        pytest.fail('ruff is not installed: it is in requirements/tests.txt '
                    '(make setup installs it)')
    r = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache',
                        ROOT], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_function_in_the_package_is_over_80_lines():
    """One job per function: none in spikeformer_mm/ spans more than 80
    lines (docstring included)."""
    import ast
    import pathlib
    long = []
    for path in sorted(pathlib.Path(ROOT, 'spikeformer_mm').rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 80:
                    long.append(f'{path.relative_to(ROOT)}:{node.lineno} '
                                f'{node.name} ({n} lines)')
    assert not long, long
