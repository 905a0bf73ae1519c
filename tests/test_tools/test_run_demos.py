"""tools/run_demos.py's bookkeeping of seeds (the training runs themselves
are the e2e tests')."""
import importlib.util
import os.path as osp
import statistics

import pytest

from helpers import ROOT, run_py


@pytest.fixture(scope='module')
def run_demos():
    spec = importlib.util.spec_from_file_location(
        'run_demos', osp.join(ROOT, 'tools', 'run_demos.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_spread_is_mean_sample_std_min_max(run_demos):
    runs = [dict(top1=97.5, seconds=10.0), dict(top1=98.5, seconds=12.0),
            dict(top1=96.0, seconds=11.0)]
    s = run_demos.spread(runs, ['top1'])
    assert s['top1'] == dict(mean=round(statistics.mean([97.5, 98.5, 96.0]),
                                        4),
                             std=round(statistics.stdev([97.5, 98.5, 96.0]),
                                       4),
                             min=96.0, max=98.5, n=3)
    assert s['seconds']['mean'] == 11.0
    assert run_demos.spread(runs[:1], ['top1'])['top1']['std'] == 0.0


def test_dense_task_of_a_seed_starts_from_that_seeds_classifier(run_demos):
    summary = {'classification': {'runs': [
        dict(seed=0, checkpoint='a/seed0/epoch_12.pth'),
        dict(seed=1, checkpoint='a/seed1/epoch_12.pth')]}}
    assert run_demos.classifier_checkpoint(summary, 1) == \
        'a/seed1/epoch_12.pth'
    assert run_demos.classifier_checkpoint(summary, 2) is None
    assert run_demos.classifier_checkpoint(
        {'classification': {'checkpoint': 'c.pth'}}, None) == 'c.pth'


def test_bad_seeds_and_tasks_are_refused(tmp_path):
    r = run_py('tools/run_demos.py', '--seeds', '0', '--work-dir',
               str(tmp_path), check=False)
    assert r.returncode == 1 and 'error: --seeds must be >= 1' in r.stderr
    r = run_py('tools/run_demos.py', '--tasks', 'segmentation', '--seeds',
               '2', '--work-dir', str(tmp_path), check=False)
    assert r.returncode == 1 and 'same --seeds' in r.stderr


def test_train_iteration_seconds_sums_mmengines_iteration_times(run_demos,
                                                                 tmp_path):
    """The seconds in training iterations are the sum of every
    ``train/time`` the checkpoint's message hub holds (IterTimerHook's, one
    per iteration), read back through the safe loader; none recorded:
    None."""
    import torch
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_train_iteration_seconds')
    times = [0.25, 0.5, 0.25, 1.0]
    for t in times:
        hub.update_scalar('train/time', t)
    hub.update_scalar('val/time', 100.0)  # validation is not training
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict={}, message_hub=hub.state_dict()), ckpt)
    assert run_demos.train_iteration_seconds(str(ckpt)) == sum(times)
    torch.save(dict(state_dict={}), tmp_path / 'bare.pth')
    assert run_demos.train_iteration_seconds(
        str(tmp_path / 'bare.pth')) is None
