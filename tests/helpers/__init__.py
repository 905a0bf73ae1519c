"""Helpers shared by the tests (the fixtures of ``tests/conftest.py`` are
built on them): the repository root, running a script of it, the tiny
arch, the fake HTTP server."""
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# The tiny Meta-SpikeFormer of the tests (embed dims of the four stages; the
# first stage has 8 channels): small enough for a CPU test, every layer
# kind present.
TINY_ARCH = dict(embed_dims=[16, 32, 64, 80])


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


