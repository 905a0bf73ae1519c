import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The paper's code's outputs, kept in the repository (tests/data/reference/
# README.md says how they were made); SPIKEFORMER_REFERENCE reads another copy.
REFERENCE = os.environ.get('SPIKEFORMER_REFERENCE',
                           osp.join(ROOT, 'tests', 'data', 'reference'))


def run_py(*args, env=None, timeout=900, check=True, cwd=ROOT):
    """Run a python script of the repo in a subprocess; return the result."""
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([sys.executable, *args], cwd=cwd, env=e,
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f'{args} failed ({r.returncode}):\n'
                             f'{r.stdout[-3000:]}\n{r.stderr[-3000:]}')
    return r


@pytest.fixture(scope='session')
def reference_dir():
    if not osp.isdir(REFERENCE):
        pytest.fail(f'reference vectors not found at {REFERENCE} (set '
                    f'SPIKEFORMER_REFERENCE)')
    return REFERENCE


@pytest.fixture(scope='session')
def vectors(reference_dir):
    return torch.load(osp.join(reference_dir, 'sdtv2_tiny_seed0_vectors.pt'),
                      weights_only=True)


@pytest.fixture(scope='session')
def converted_tiny(reference_dir, tmp_path_factory):
    """The official tiny checkpoint, converted by the converter tool."""
    out = tmp_path_factory.mktemp('ckpt') / 'tiny_mm.pth'
    run_py('tools/model_converters/sdtv2_to_mm.py',
           osp.join(reference_dir, 'sdtv2_tiny_seed0_official.pth'), str(out))
    return str(out)
