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
if what == 'state':  # the random states and the package a run starts with
    import random, numpy, torch, spikeformer_mm
    print(json.dumps(dict(
        torch=torch.rand(3).tolist(), seed=torch.initial_seed(),
        py=random.random(), np=float(numpy.random.rand()),
        package=os.path.dirname(spikeformer_mm.__file__))), flush=True)
if what == 'crash_at_exit':  # a crash while the interpreter shuts down,
    class Bomb:              # after every atexit handler (gloo's once)
        def __del__(self):
            os.abort()
    sys.modules['_bomb'] = type(sys)('_bomb')
    sys.modules['_bomb'].bomb = Bomb()
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


def test_a_warm_run_starts_as_a_fresh_one(tmp_path):
    """Each run has random states of its own, as fresh processes do (torch
    2.14, numpy and python seed themselves from the OS), not the state every
    fork of the server would share; and imports the package from the
    checkout under test, not from where the venv's editable install
    points. Mutation caught: without the reseeding the two warm runs draw
    the same numbers."""
    from helpers import ROOT
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    runs = [json.loads(run_py(str(script), 'state').stdout.splitlines()[1])
            for _ in range(3)]  # one fresh, two warm
    for key in ('torch', 'seed', 'py', 'np'):
        assert len({str(r[key]) for r in runs}) == 3, key
    for r in runs:
        assert os.path.realpath(r['package']) == \
            os.path.realpath(os.path.join(ROOT, 'spikeformer_mm'))


def test_a_crash_at_interpreter_exit_fails_a_warm_run(tmp_path):
    """A crash after the script ended (in the interpreter's shutdown) is
    the run's exit status, fresh and warm. Mutation caught: the warm child
    ending with os._exit after its atexit handlers (the old runner) exits
    0 here."""
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    fresh, warm = (run_py(str(script), 'crash_at_exit', check=False)
                   for _ in range(2))
    assert probe(warm)['warm'] and not probe(fresh)['warm']
    assert fresh.returncode == warm.returncode == -6, (fresh.returncode,
                                                       warm.returncode)
