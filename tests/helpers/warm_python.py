"""A warm interpreter for the tests' script runs (:func:`helpers.run_py`).

Every tool run in a fresh ``python`` first spends 4-5 s importing torch,
mmengine, mmcv and the three toolboxes (2-core CPU, 2026-12-01), which made
up most of the suite's ~120 tool runs. This server pays those imports once,
then runs each request in a fork of itself: the script runs as
``__main__`` in a process of its own (own pid and session, working
directory, environment, argv, stdout/stderr to the files it is given, its
exit status the process's), so what a test sees is what a fresh ``python
script.py`` gives, less the imports. ``run_py`` runs each script's first
call of a session, every ``-c``/``-m`` call and every call with another
environment in a fresh interpreter instead, so a tool that forgets an
import still fails. Only the test suite uses it.

Usage: ``python warm_python.py SOCKET ROOT`` (prints ``ready`` once
listening; imports ``spikeformer_mm`` from the checkout ``ROOT``).
One request per connection, a JSON line ``{"argv": [...], "cwd": ...,
"env": {...}, "stdout": path, "stderr": path}``; the answer is the child's
pid, then its exit code (negative: killed by that signal), one per line.
"""
import json
import os
import socket
import sys


def _run_child(req):
    """In the forked child: become the script's process and run it."""
    import runpy
    import traceback
    os.setsid()  # its own process group: a timeout kills its workers too
    os.chdir(req['cwd'])
    os.environ.clear()
    os.environ.update(req['env'])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, key in ((1, 'stdout'), (2, 'stderr')):
        out = os.open(req[key], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    # a random state of its own, as a fresh interpreter has (numpy, python's
    # random and torch 2.14 seed themselves from the OS at start), not the
    # one every fork would share with the server. The hash seed cannot
    # change in a running interpreter: warm runs share the server's.
    import random

    import numpy as np
    import torch
    np.random.seed()
    random.seed()
    torch.seed()
    script = req['argv'][0]
    sys.argv = list(req['argv'])
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    code = 0
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as e:  # as the interpreter reports it
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    # the interpreter's own shutdown, as at the end of a fresh run
    # (threads joined, atexit handlers, modules and objects finalised): a
    # crash there (gloo's SIGABRT once) is the run's exit status, not hidden
    # by an os._exit. main() lets this SystemExit through.
    raise _ChildExit(code & 0xFF)


class _ChildExit(SystemExit):
    """A forked child's end: the server's loop lets it propagate."""


def main():
    path, root = sys.argv[1], sys.argv[2]
    # the package under test is the checkout's, not whatever the venv's
    # editable install points at (tests/conftest.py sets PYTHONPATH the same
    # way for fresh runs)
    sys.path.insert(0, root)
    # what every tool imports; nothing runs, so no worker thread pool exists
    # yet when the server forks
    import torch  # noqa: F401
    import mmengine.runner  # noqa: F401
    import mmdet.models  # noqa: F401
    import mmpretrain.models  # noqa: F401
    import mmseg.models  # noqa: F401

    import spikeformer_mm
    here = os.path.dirname(os.path.abspath(spikeformer_mm.__file__))
    if os.path.realpath(here) != os.path.realpath(
            os.path.join(root, 'spikeformer_mm')):
        sys.exit(f'warm_python: spikeformer_mm imports from {here}, not '
                 f'from the checkout under test {root}')
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print('ready', flush=True)
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile('rwb') as f:
            line = f.readline()
            if not line:
                continue
            req = json.loads(line)
            if req.get('quit'):
                break
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                f.close()
                conn.close()
                srv.close()
                _run_child(req)
            f.write(f'{pid}\n'.encode())
            f.flush()
            _, status = os.waitpid(pid, 0)
            f.write(f'{os.waitstatus_to_exitcode(status)}\n'.encode())
            f.flush()
    srv.close()


if __name__ == '__main__':
    main()
