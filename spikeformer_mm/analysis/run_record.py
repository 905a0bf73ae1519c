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

A figure that should hold on more than one kind of CPU comes from records
made on each: :func:`pool_records` gives one summary over their runs, with
the spread of each CPU beside the pooled one
(``tools/run_demos.py --pool A.json B.json --record POOLED.json``).
"""
import datetime
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence

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


def spread(runs: List[Dict], keys: Iterable[str]) -> Dict[str, Dict]:
    """Mean, sample std (n-1), min and max of each metric in ``keys`` and of
    ``seconds`` over ``runs``."""
    out = {}
    for k in list(keys) + ['seconds']:
        v = [r[k] for r in runs]
        out[k] = dict(mean=round(statistics.mean(v), 4),
                      std=round(statistics.stdev(v), 4) if len(v) > 1
                      else 0.0, min=min(v), max=max(v), n=len(v))
    return out


def _load_record(path: str) -> Dict:
    import json

    from spikeformer_mm.fileio import read_json
    try:
        rec = read_json(path)
    except json.JSONDecodeError as e:
        raise ValueError(f'run record {path} is not JSON ({e})') from None
    if rec is None:
        raise ValueError(f'run record {path} not found')
    if not isinstance(rec, dict) or not isinstance(rec.get('summary'), dict):
        raise ValueError(f'{path} is not a run record of tools/run_demos.py '
                         '(no "summary")')
    return rec


def pool_records(paths: Sequence[str],
                 metrics: Dict[str, Sequence[str]]) -> Dict[str, Dict]:
    """One summary entry per task of ``metrics`` ({task: metric keys}) over
    the runs of the run records ``paths`` (each written by
    ``tools/run_demos.py --record``, e.g. one per kind of CPU): ``config``,
    ``runs`` (each run as its record holds it, plus ``record``: the path it
    came from), ``spread`` over all of them, ``spread_by_cpu`` ({CPU model:
    its runs' spread}) and ``spread_by_kernel_set``.

    Pooling says nothing about whether the records ran the same recipe: pool
    only tasks whose config did not change between the records' commits
    (each run keeps its ``commit``). Raises ValueError naming the record and
    the task when a record is missing, is no run record or is given twice,
    lacks a task, holds a single run without a seed or a run without the
    fields pooled, or ran another config than the others."""
    if len(set(paths)) < 2 or len(set(paths)) < len(paths):
        raise ValueError('pooling needs two different run records or more, '
                         f'got {list(paths)}')
    records = [(p, _load_record(p)) for p in paths]
    pooled = {}
    for task, keys in metrics.items():
        runs = []
        for path, rec in records:
            entry = rec['summary'].get(task)
            if entry is None:
                raise ValueError(f'run record {path} has no task {task!r} '
                                 f'(it has {sorted(rec["summary"])})')
            if 'runs' not in entry:
                raise ValueError(f'run record {path}: task {task!r} is one '
                                 'run without seeds (made without --seeds)')
            for r in entry['runs']:
                lacks = sorted({'cpu', 'kernel_set', 'config', 'seconds',
                                *keys} - set(r))
                if lacks:
                    raise ValueError(f'run record {path}: a run of task '
                                     f'{task!r} lacks {lacks}')
                runs.append(dict(r, record=path))
        configs = sorted({r['config'] for r in runs})
        if len(configs) > 1:
            raise ValueError(f'task {task!r} ran different configs in '
                             f'{list(paths)}: {configs}')

        def by(field):
            return {v: spread([r for r in runs if r[field] == v], keys)
                    for v in sorted({r[field] for r in runs})}
        pooled[task] = dict(config=configs[0], runs=runs,
                            spread=spread(runs, keys),
                            spread_by_cpu=by('cpu'),
                            spread_by_kernel_set=by('kernel_set'))
    return pooled
