"""Command-line plumbing shared by ``tools/`` and ``demo/``: one-line
errors (with a hint saying how to make a missing file the toolbox knows),
``--cfg-options`` parsing, argument checks."""
import os
import os.path as osp
from typing import Any, Callable, Optional, Sequence

from mmengine.config import DictAction

from .checkpoint.files import MissingFileError


def require_files(**paths: Optional[str]) -> None:
    """Raise ``FileNotFoundError('<what> not found: <path>')`` for the first
    missing file (arguments of the command-line tools). A ``config`` may
    also be the name of a config shipped with the package
    (:func:`spikeformer_mm.apis.config_path`)."""
    for what, path in paths.items():
        if path is not None and not osp.isfile(path):
            if what == 'config':
                from .apis.config import config_path
                config_path(path)  # a shipped name, or the error
                continue
            raise MissingFileError(path, what)


def end_with_launcher(launcher: str) -> None:
    """In a process started by a launcher (torchrun's workers run in
    sessions of their own, so killing the launcher's process group does not
    reach them), ask Linux to end this process when its parent dies
    (``PR_SET_PDEATHSIG``): a killed ``dist_train.sh`` leaves no worker
    training on as an orphan. Elsewhere, or with ``launcher='none'``, it
    does nothing."""
    import signal
    import sys
    if launcher == 'none' or not sys.platform.startswith('linux'):
        return
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def _same_file(a: str, b: str) -> bool:
    a, b = osp.realpath(osp.expanduser(a)), osp.realpath(osp.expanduser(b))
    if a == b:
        return True
    try:
        return osp.samefile(a, b)  # hard links
    except OSError:
        return False


def refuse_overwriting_inputs(args, inputs: Sequence[str],
                              outputs: Sequence[str],
                              planned: Optional[dict] = None) -> None:
    """The one output-path check of every tool that writes (a test finds
    the tools and fails for one without it): raise ``ValueError`` naming
    both arguments when an output of a tool is the same file as one of its
    inputs (or as another output). ``inputs``/``outputs``: attribute names
    of ``args``; unset ones (None, ``'none'``) are skipped. ``planned``:
    ``{output folder argument: [paths of the files the tool will write in
    it]}``, for tools that write into a folder (``--out-dir``): each is
    checked against the inputs the same way (``image_demo.py
    DIR/digit.png ... --out-dir DIR`` would otherwise replace the image).
    """
    def given(names):
        for n in names:
            v = getattr(args, n, None)
            if isinstance(v, str) and v and v.lower() != 'none' and \
                    '://' not in v:
                yield n, v

    def refuse(out_name, shown, in_name):
        raise ValueError(
            f'{out_name.replace("_", "-")} {shown}: the same file as '
            f'{in_name.replace("_", "-")}; a tool never writes over its own '
            f'input or another of its outputs')

    ins = list(given(inputs))
    outs = list(given(outputs))
    for i, (out_name, out) in enumerate(outs):
        for in_name, path in ins + outs[:i]:
            if _same_file(out, path):
                refuse(out_name, out, in_name)
    for folder, paths in (planned or {}).items():
        for p in paths:
            for in_name, path in ins + outs:
                if _same_file(p, path):
                    refuse(folder, f'{getattr(args, folder)} (it would '
                           f'write {p})', in_name)


def run_cli(main: Callable, argv: Optional[list] = None) -> Any:
    """Run a command-line ``main``; bad input (a missing file, a bad
    argument, key or checkpoint, a directory it must not overwrite:
    ``FileNotFoundError``, ``ValueError``, ``FileExistsError``)
    ends it with one ``error: ...`` line and exit status 1.
    A file that could not be written (``OSError``: a full disk, no
    permission) ends it the same way. ``SPIKEFORMER_DEBUG=1`` shows the
    full traceback instead."""
    import sys
    try:
        return main() if argv is None else main(argv)
    except (OSError, ValueError) as e:
        if os.environ.get('SPIKEFORMER_DEBUG'):
            raise
        sys.exit(f'error: {with_hint(e)}')


def with_hint(error: Exception) -> str:
    """The message of ``error``, and for a missing file the toolbox knows
    how to make (``error.path`` of a
    :class:`~spikeformer_mm.checkpoint.files.MissingFileError`), how
    (:func:`~.apis.hints.how_to_make`)."""
    msg = str(error)
    path = getattr(error, 'path', None)
    if isinstance(error, FileNotFoundError) and path:
        from .apis.hints import how_to_make
        hint = how_to_make(path)
        if hint and hint not in msg:
            msg = f'{msg}; {hint}'
    return msg


class CfgOptions(DictAction):
    """mmengine's ``--cfg-options`` action, with a one-line error for an
    item without ``=`` (mmengine's raises a bare unpacking ValueError)."""

    def __call__(self, parser, namespace, values, option_string=None):
        for kv in values or ():
            if '=' not in kv:
                parser.error(f'{option_string}: {kv!r} needs the form '
                             f'key=value')
        super().__call__(parser, namespace, values, option_string)
