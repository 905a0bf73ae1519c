import os
import os.path as osp
import sys

import pytest
import torch

from helpers import ROOT, TINY_ARCH, FakeServer, run_py

# The package under test is this checkout's, in this process and in every
# script the tests run (fresh or warm: helpers.warm_python does the same),
# whatever checkout the venv's editable install points at.
sys.path.insert(0, ROOT)
os.environ['PYTHONPATH'] = os.pathsep.join(
    [ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
              if p])
import spikeformer_mm  # noqa: E402

if osp.realpath(osp.dirname(spikeformer_mm.__file__)) != \
        osp.realpath(osp.join(ROOT, 'spikeformer_mm')):
    pytest.exit(f'spikeformer_mm imports from {spikeformer_mm.__file__}, '
                f'not from the checkout under test {ROOT}', returncode=1)

# no test reaches Google Drive (the Drive tests inject their folder listing
# and fetch from loopback); subprocesses inherit it
os.environ.setdefault('SPIKEFORMER_OFFLINE', '1')
# The paper's code's outputs, kept in the repository (tests/data/reference/
# README.md says how they were made); SPIKEFORMER_REFERENCE reads another copy.
REFERENCE = os.environ.get('SPIKEFORMER_REFERENCE',
                           osp.join(ROOT, 'tests', 'data', 'reference'))


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


# ------------------------------------------------------------ shared fixtures

@pytest.fixture
def tiny_arch():
    """The tests' tiny Meta-SpikeFormer arch (a fresh dict)."""
    return dict(TINY_ARCH, embed_dims=list(TINY_ARCH['embed_dims']))


@pytest.fixture(scope='session')
def repo_root():
    return ROOT


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
    """``tools/run_demos.py --smoke``: every task, tiny, through the mm
    tools; (work dir, summary, stdout). Its classifier also starts the event
    and spiking-detection smoke runs."""
    import json
    wd = tmp_path_factory.mktemp('demo')
    r = run_py('tools/run_demos.py', '--smoke', '--work-dir', str(wd),
               timeout=1500)
    with open(wd / 'summary.json') as f:
        summary = json.load(f)
    return wd, summary, r.stdout


@pytest.fixture(name='run_py')
def run_py_fixture():
    """:func:`run_py`: a script of the repository in a subprocess."""
    return run_py


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'needs_native_bf16: needs a CPU with native bf16 '
        '(AVX-512 BF16 / AMX); skipped, with the reason, elsewhere')


def pytest_collection_modifyitems(config, items):
    # one shared check: oneDNN's probe (spikeformer_mm.compat)
    from spikeformer_mm.compat import cpu_bf16_supported
    if cpu_bf16_supported():
        return
    skip = pytest.mark.skip(reason=(
        'this CPU has no native bf16 (torch capability '
        f'{torch.backends.cpu.get_cpu_capability()}): oneDNN would run its '
        'reference kernels, which convert layouts and are slow'))
    for item in items:
        if item.get_closest_marker('needs_native_bf16'):
            item.add_marker(skip)


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    """A :class:`FakeServer` serving ``tmp_path/srv``; torch's cache in
    ``tmp_path``."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    root = tmp_path / 'srv'
    root.mkdir()
    srv = FakeServer(root)
    yield srv
    srv.httpd.shutdown()
