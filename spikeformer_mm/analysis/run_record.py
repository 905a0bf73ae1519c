"""Run records: the committed files (``docs/results/*.json``) that the
READMEs' figures come from, and what every one of them says about where it
was made.

Every measuring tool that takes ``--record FILE`` (``tools/run_demos.py``,
``tools/analysis_tools/spike_count_table.py``,
``tools/analysis_tools/benchmark_suite.py``) writes through
:func:`write_record`: the command that made it, the CPU model and the
capability torch chose on it, torch, the date and the commit, then the
tool's own results. A record is never replaced, and an existing one is
refused before any run starts (:func:`refuse_existing_record`).
"""
import datetime
import os
import os.path as osp
import platform
import subprocess
import sys
from typing import Any, Dict, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def cpu_model() -> str:
    """The CPU's model name and core count, e.g. '2-core Intel(R) Xeon(R)
    Processor'."""
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
    except OSError:  # no /proc (not Linux): platform's name stays
        pass
    return f'{os.cpu_count()}-core {name}'


def git_commit(root: str = ROOT) -> Optional[str]:
    """The checkout's HEAD as a short hash, '+dirty' when the tracked files
    differ from it; None outside a git checkout (an installed wheel)."""
    def git(*a):
        return subprocess.run(['git', *a], cwd=root, capture_output=True,
                              text=True)
    try:
        head = git('rev-parse', '--short', 'HEAD')
    except OSError:  # no git
        return None
    if head.returncode != 0:
        return None
    dirty = git('status', '--porcelain', '--untracked-files=no').stdout
    return head.stdout.strip() + ('+dirty' if dirty.strip() else '')


def provenance() -> Dict[str, Any]:
    """What every run of one invocation shares: CPU model, torch version,
    date and commit."""
    import torch
    return dict(cpu=cpu_model(), torch=torch.__version__,
                date=datetime.date.today().isoformat(), commit=git_commit())


def refuse_existing_record(path: Optional[str], option: str = '--record'):
    """Exit with the reason when ``path`` is already there: checked before
    the runs, so that no hour of measuring ends in a refusal."""
    if path and osp.exists(path):
        sys.exit(f'error: {option} {path} exists; a run record is never '
                 'replaced: give a new file name')


def write_record(path: str, tool: str, tool_args: Sequence[str],
                 results: Dict, shared: Optional[Dict] = None) -> None:
    """Write the record ``path`` (never over an existing file): ``command``
    (``python tool ARGS``, ``tool`` relative to the checkout),
    ``cpu_capability`` (this process's, torch's
    choice), the provenance ``shared`` (or this moment's) and ``results``'
    keys. A record that appeared meanwhile is kept, and the exit says so."""
    import torch

    from spikeformer_mm.fileio import write_json
    record = dict(command=' '.join(['python', tool, *tool_args]),
                  cpu_capability=torch.backends.cpu.get_cpu_capability(),
                  **(shared or provenance()))
    record.update(results)
    try:
        write_json(path, record, replace=False)
    except FileExistsError:
        sys.exit(f'error: --record {path} appeared during the runs and is '
                 'kept; the results are in the work dir')
