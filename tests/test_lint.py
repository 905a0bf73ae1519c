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
