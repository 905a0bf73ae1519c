"""The tests' script runner (``helpers.run_py``): a script's later runs are
forks of a warm interpreter (tests/helpers/warm_python.py) and must look
to the test exactly as a fresh ``python script.py`` does."""
import json
import os
import subprocess

import pytest

from helpers import run_py

PROBE = '''
import json, os, sys, time
print(json.dumps(dict(
    warm='torch' in sys.modules, argv=sys.argv[1:], cwd=os.getcwd(),
    path0=sys.path[0], name=__name__, probe=os.environ.get('PROBE'),
    pid=os.getpid())), flush=True)
what = sys.argv[1]
if what == 'exit':
    sys.exit('error: named')
if what == 'code':
    sys.exit(3)
if what == 'raise':
    raise ValueError('boom')
if what == 'sleep':
    time.sleep(60)
'''


def probe(r):
    return json.loads(r.stdout.splitlines()[0])


def test_warm_runs_look_like_fresh_ones(tmp_path):
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    first, second = (run_py(str(script), 'ok', cwd=str(tmp_path))
                     for _ in range(2))
    a, b = probe(first), probe(second)
    assert not a['warm'] and b['warm']  # the first run is fresh
    for k in ('argv', 'cwd', 'path0', 'name', 'probe'):
        assert a[k] == b[k], k
    assert a['path0'] == str(tmp_path) and a['name'] == '__main__'
    assert first.returncode == second.returncode == 0
    # the exit status and the streams, as the interpreter gives them
    r = run_py(str(script), 'exit', check=False)
    assert probe(r)['warm']
    assert (r.returncode, r.stderr) == (1, 'error: named\n')
    assert run_py(str(script), 'code', check=False).returncode == 3
    r = run_py(str(script), 'raise', check=False)
    assert r.returncode == 1 and r.stderr.startswith('Traceback')
    assert r.stderr.rstrip().endswith('ValueError: boom')
    # another environment: a fresh interpreter, which sees it
    r = run_py(str(script), 'ok', env={'PROBE': 'x'})
    assert not probe(r)['warm'] and probe(r)['probe'] == 'x'


def test_the_warm_interpreter_follows_the_environment(tmp_path,
                                                      monkeypatch):
    """A variable set in this process (as tests and in-process runs do)
    reaches warm runs: the warm interpreter is started again with it."""
    import helpers
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    run_py(str(script), 'ok')
    assert probe(run_py(str(script), 'ok'))['probe'] is None
    before = helpers._WARM.proc.pid
    monkeypatch.setenv('PROBE', 'y')
    r = probe(run_py(str(script), 'ok'))
    assert r['warm'] and r['probe'] == 'y'
    assert helpers._WARM.proc.pid != before


def test_a_warm_run_past_its_timeout_is_killed(tmp_path):
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    import time
    run_py(str(script), 'ok')  # the fresh first run
    t0 = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as e:
        run_py(str(script), 'sleep', timeout=3)
    assert time.monotonic() - t0 < 30  # killed, not waited for (60 s)
    pid = json.loads(e.value.stdout.splitlines()[0])['pid']
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not left running


def test_every_run_fresh_when_asked(tmp_path, monkeypatch):
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    run_py(str(script), 'ok')
    assert probe(run_py(str(script), 'ok'))['warm']
    monkeypatch.setenv('SPIKEFORMER_TEST_FRESH', '1')
    assert not probe(run_py(str(script), 'ok'))['warm']
