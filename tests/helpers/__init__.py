"""Helpers shared by the tests (the fixtures of ``tests/conftest.py`` are
built on them): the repository root, running a script of it, the tiny
arch, the fake HTTP server."""
import atexit
import json
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# The tiny Meta-SpikeFormer of the tests (embed dims of the four stages; the
# first stage has 8 channels): small enough for a CPU test, every layer
# kind present.
TINY_ARCH = dict(embed_dims=[16, 32, 64, 80])


def load_tool(path):
    """The module of the tool script ``path`` (relative to the repository
    root), imported from its file (tools/ is not a package)."""
    import importlib.util
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_py(*args, env=None, timeout=900, check=True, cwd=ROOT):
    """Run a python script of the repo in its own process; return the
    ``subprocess.CompletedProcess``.

    A script's first run in a session, ``-c``/``-m`` runs and runs given
    an ``env`` start a fresh interpreter; later runs of a script are forks
    of a warm one (:mod:`helpers.warm_python`: the imports paid once),
    which has this process's environment (it is started again when that
    changes). ``SPIKEFORMER_TEST_FRESH=1`` starts every run fresh."""
    e = dict(os.environ)
    e.update(env or {})
    cmd = [sys.executable, *map(str, args)]
    if not env and _warm_allowed(args, cwd):
        r = _WARM.run(cmd, cwd, e, timeout)
    else:
        r = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True,
                           text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f'{args} failed ({r.returncode}):\n'
                             f'{r.stdout[-3000:]}\n{r.stderr[-3000:]}')
    return r


_FRESH_RUNS = set()  # scripts that have had their run in a fresh interpreter


def _same_env(a, b):
    skip = ('PYTEST_CURRENT_TEST', )
    return ({k: v for k, v in a.items() if k not in skip} ==
            {k: v for k, v in b.items() if k not in skip})


def _warm_allowed(args, cwd):
    script = str(args[0]) if args else ''
    if (os.environ.get('SPIKEFORMER_TEST_FRESH') == '1'
            or script.startswith('-') or not script.endswith('.py')):
        return False
    path = osp.realpath(osp.join(cwd, script))
    if path not in _FRESH_RUNS:
        _FRESH_RUNS.add(path)
        return False
    return _WARM.usable()


class _WarmPython:
    """The client of one :mod:`helpers.warm_python` server, started on first
    use with this process's environment, started again when that changes
    (a test or an in-process run set a variable that a library may read at
    import), stopped at exit; if it cannot start or dies, runs fall back to
    fresh interpreters."""

    def __init__(self):
        self.proc = self.sock = self.env = None
        self.broken = False

    def usable(self):
        if self.broken:
            return False
        if self.proc is not None and not _same_env(os.environ, self.env):
            self.stop(os.getpid())
            self.proc = None
        if self.proc is None:
            self._start()
        return not self.broken and self.proc.poll() is None

    def _start(self):
        self.dir = tempfile.mkdtemp(prefix='warm_py_')
        self.sock = osp.join(self.dir, 'sock')
        self.env = dict(os.environ)
        with open(osp.join(self.dir, 'server.log'), 'w') as log:
            self.proc = subprocess.Popen(
                [sys.executable,
                 osp.join(osp.dirname(__file__), 'warm_python.py'),
                 self.sock, ROOT], cwd=ROOT, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=log, text=True)
        if self.proc.stdout.readline().strip() != 'ready':
            self.proc.kill()
            self.broken = True
        if not getattr(self, 'registered', False):
            atexit.register(lambda pid=os.getpid(): self.stop(pid))
            self.registered = True

    def stop(self, pid):
        if os.getpid() == pid and self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, cmd, cwd, env, timeout):
        out_dir = tempfile.mkdtemp(dir=self.dir)
        out, err = osp.join(out_dir, 'out'), osp.join(out_dir, 'err')
        req = dict(argv=cmd[1:], cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.sock)
            f = s.makefile('rwb')
            f.write((json.dumps(req) + '\n').encode())
            f.flush()
            pid = int(f.readline())
            s.settimeout(max(deadline - time.monotonic(), 0.1))
            try:
                rc = int(f.readline())
                expired = False
            except (socket.timeout, TimeoutError):
                os.killpg(pid, signal.SIGKILL)
                s.settimeout(None)
                f = s.makefile('rb')
                f.readline()
                expired = True
            f.close()

        def read(p):
            with open(p, encoding='utf-8', errors='replace') as fh:
                return fh.read()
        stdout, stderr = read(out), read(err)
        shutil.rmtree(out_dir, ignore_errors=True)
        if expired:
            raise subprocess.TimeoutExpired(cmd, timeout, stdout, stderr)
        return subprocess.CompletedProcess(cmd, rc, stdout, stderr)


_WARM = _WarmPython()


class FakeServer:
    """One HTTP server on loopback for every download test: serves
    ``files`` (name -> bytes; matched by the whole path or its last part)
    and then the files under ``root``; HEAD with Content-Length and ETag;
    GET with Range. ``mode[name]``: ``500`` (an error), ``'truncate'`` (half
    the body, then the connection closes), ``'trickle'`` (40 bytes, one per
    0.2 s), ``'slow'`` (1 s before the body). ``hits`` records every GET as
    ``(path, Range header)``, ``conditional`` the GETs that carried
    ``If-None-Match`` (answered 304 when it matches). ``head_status``: answer
    every HEAD with this error (presigned links refuse HEAD);
    ``etag=False``: send no ETag (a server with only Content-Length)."""

    def __init__(self, root):
        import http.server
        import threading
        self.root, self.files, self.mode, self.hits = root, {}, {}, []
        self.conditional, self.head_status, self.etag = [], None, True
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _find(self):
                path = self.path.lstrip('/')
                for key in (path, path.rsplit('/', 1)[-1]):
                    if key in srv.files:
                        return key, srv.files[key]
                f = osp.join(srv.root, path)
                if osp.isfile(f):
                    with open(f, 'rb') as fh:
                        return path, fh.read()
                return path, None

            def _head(self, data, status=200):
                import hashlib
                self.send_response(status)
                self.send_header('Content-Length', str(len(data)))
                if srv.etag:
                    self.send_header('ETag', hashlib.md5(data).hexdigest())
                self.end_headers()

            def do_HEAD(self):
                if srv.head_status:
                    return self.send_error(srv.head_status)
                _, data = self._find()
                if data is None:
                    return self.send_error(404)
                self._head(data)

            def do_GET(self):
                import time
                name, data = self._find()
                rng = self.headers.get('Range')
                srv.hits.append((name, rng))
                mode = srv.mode.get(name)
                if mode == 500:
                    return self.send_error(500, 'boom')
                if data is None:
                    return self.send_error(404, 'not found')
                tag = self.headers.get('If-None-Match')
                if tag is not None:
                    import hashlib
                    srv.conditional.append(name)
                    if srv.etag and tag == hashlib.md5(data).hexdigest():
                        self.send_response(304)
                        self.end_headers()
                        return
                start = int(rng.split('=')[1].split('-')[0]) if rng else 0
                body = data[start:]
                self._head(body, 206 if rng else 200)
                if mode == 'truncate' and not rng:
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if mode == 'trickle':
                    for b in body[:40]:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                        time.sleep(0.2)
                    return
                if mode == 'slow':
                    time.sleep(1.0)
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.httpd.handle_error = lambda *a: None  # clients that gave up
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


