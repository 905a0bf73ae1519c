"""spikeformer_mm.analysis.run_record: what every run record says about
where it was made, and that none is ever replaced."""
import json
import subprocess

import pytest

from spikeformer_mm.analysis import run_record


def _git(repo, *a):
    subprocess.run(['git', '-C', str(repo), *a], check=True,
                   capture_output=True)


def test_commit_is_dirty_only_when_tracked_files_differ(tmp_path):
    assert run_record.git_commit(str(tmp_path)) is None  # not a checkout
    _git(tmp_path, 'init', '-q')
    (tmp_path / 'a.py').write_text('x = 1\n')
    _git(tmp_path, 'add', 'a.py')
    _git(tmp_path, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit',
         '-qm', 'one')
    head = subprocess.run(['git', '-C', str(tmp_path), 'rev-parse',
                           '--short', 'HEAD'], capture_output=True,
                          text=True).stdout.strip()
    assert run_record.git_commit(str(tmp_path)) == head
    (tmp_path / 'untracked.json').write_text('{}')  # a fresh record
    assert run_record.git_commit(str(tmp_path)) == head
    (tmp_path / 'a.py').write_text('x = 2\n')
    assert run_record.git_commit(str(tmp_path)) == head + '+dirty'


def test_a_record_is_written_with_its_provenance_and_never_replaced(
        tmp_path):
    import torch
    rec = tmp_path / 'r.json'
    run_record.write_record(str(rec), 'tools/x.py', ['--seeds', '3'],
                            dict(rows=[1, 2]))
    r = json.loads(rec.read_text())
    assert r['command'] == 'python tools/x.py --seeds 3'
    assert r['rows'] == [1, 2]
    assert r['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert r['torch'] == torch.__version__ and r['cpu'].endswith(
        run_record.cpu_model().split('-core ', 1)[1])
    with pytest.raises(SystemExit, match='appeared during the runs'):
        run_record.write_record(str(rec), 'tools/x.py', [], dict(rows=[3]))
    assert json.loads(rec.read_text())['rows'] == [1, 2]
    with pytest.raises(SystemExit, match=f'--record {rec} exists'):
        run_record.refuse_existing_record(str(rec))
    run_record.refuse_existing_record(None)
    run_record.refuse_existing_record(str(tmp_path / 'new.json'))
