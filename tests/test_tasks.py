"""The tasks table (spikeformer_mm/tasks.py): how a built model's task is
told, that an unknown task or model is refused with the choices, and that
the table is the only place in the package that dispatches on a task's
name."""
import pathlib
import re

import pytest
import torch.nn as nn

from helpers import ROOT
from spikeformer_mm.tasks import TASKS, get_task, model_task


def model_with(*heads):
    m = nn.Module()
    for h in heads:
        setattr(m, h, nn.Identity())
    return m


def test_each_toolbox_model_is_told_by_its_heads():
    assert model_task(model_with('backbone', 'decode_head')) == \
        'segmentation'
    assert model_task(model_with('backbone', 'rpn_head', 'roi_head')) == \
        'detection'
    assert model_task(model_with('backbone', 'bbox_head')) == 'detection'
    assert model_task(model_with('backbone', 'neck', 'head')) == \
        'classification'


def test_unknown_models_and_tasks_are_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"Module: not a model of any task "
                       r"of \('segmentation', 'detection', "
                       r"'classification'\)"):
        model_task(model_with('backbone'))
    with pytest.raises(ValueError, match=r"task must be one of "
                       r"\('segmentation', 'detection', 'classification'\), "
                       r"got 'tracking'"):
        get_task('tracking')


def test_every_row_names_a_predictor_and_an_export():
    from spikeformer_mm.apis import predict
    for task in TASKS.values():
        assert callable(getattr(predict, task.predictor)), task
        assert task.exported in ('logits', 'features')


def test_the_table_is_the_only_dispatch_on_a_task_name():
    """No module of the package but tasks.py compares with a task's name
    (``== 'detection'``, ``in ('classification', ...)``): a new task is a
    row of the table, not an edit of every if-chain."""
    names = '|'.join(TASKS)
    pattern = re.compile(rf"(==|!=|\bin \(?)\s*'({names})'")
    found = []
    for path in pathlib.Path(ROOT, 'spikeformer_mm').rglob('*.py'):
        if path.name == 'tasks.py':
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f'{path.relative_to(ROOT)}:{i}: {line.strip()}')
    assert not found, found


def test_architecture_doc_names_each_extension_table():
    """docs/architecture.md's extension table names the tables that exist
    (a renamed table fails here)."""
    import importlib

    text = pathlib.Path(ROOT, 'docs/architecture.md').read_text()
    for module, table in (('spikeformer_mm.tasks', 'TASKS'),
                          ('spikeformer_mm.deploy.targets', 'TARGETS'),
                          ('spikeformer_mm.registry', 'NEURONS'),
                          ('spikeformer_mm.registry', 'MODELS')):
        assert hasattr(importlib.import_module(module), table), table
        assert f'`{table}`' in text, table
