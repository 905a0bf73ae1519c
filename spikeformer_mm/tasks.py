"""The tasks this toolbox serves, one row each: the table that every place
dispatching on a task reads (export, precision check, prediction, the
embedded data, the browser demo). A new task is a row here plus its
folder of configs (docs/architecture.md, "Extending").

Columns of :class:`Task`:

* ``toolbox``: the OpenMMLab toolbox whose model it is;
* ``recognised_by``: attributes of a built model that only this task's
  models have (how :func:`model_task` tells them apart, in table order);
* ``exported``: what ONNX export keeps, ``'logits'`` (time-averaged, top-1
  agreement checked) or ``'features'`` (backbone and neck; the toolbox's
  own post-processing stays in Python);
* ``prediction``: the ``DataSample`` field two runs' predictions are
  compared by (the precision check), or None (boxes have no element-wise
  agreement);
* ``predictor``: the function of :mod:`spikeformer_mm.apis.predict` that
  runs one file through a model of the task.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .validation import check_choice


@dataclass(frozen=True)
class Task:
    name: str
    toolbox: str
    recognised_by: Tuple[str, ...]
    exported: str
    prediction: Optional[str]
    predictor: str


TASKS: Dict[str, Task] = {t.name: t for t in (
    Task('segmentation', 'mmseg', ('decode_head', ), 'features',
         'pred_sem_seg', 'segment'),
    Task('detection', 'mmdet', ('rpn_head', 'roi_head', 'bbox_head'),
         'features', None, 'detect'),
    Task('classification', 'mmpretrain', ('head', ), 'logits', 'pred_label',
         'classify'),
)}


def get_task(name: str) -> Task:
    """The row of task ``name``; an unknown name is refused with the
    choices."""
    check_choice('task', name, tuple(TASKS))
    return TASKS[name]


def model_task(model) -> str:
    """The task of a built mm model (the first row whose ``recognised_by``
    attributes it has); a model of none is refused."""
    for task in TASKS.values():
        if any(hasattr(model, a) for a in task.recognised_by):
            return task.name
    raise ValueError(f'{type(model).__name__}: not a model of any task of '
                     f'{tuple(TASKS)} (none of their heads: '
                     f'{[t.recognised_by for t in TASKS.values()]})')
