"""How to make a file the toolbox knows but that is not there yet (the
tools add it to their "not found" errors, see
:func:`spikeformer_mm.cli.with_hint`)."""
import os
import os.path as osp

from ..zoo import config_root, list_models


def how_to_make(filename: str) -> str:
    """A command that makes the missing checkpoint ``filename``, or ''.

    The configs name two kinds of files a user must provide: the output of
    another config's training run (``work_dirs/<config name>/...``) and a
    converted paper checkpoint (``checkpoints/<zoo name>.pth``, whose
    conversion command the zoo's metafile records)."""
    parts = osp.normpath(str(filename)).split(os.sep)
    if 'work_dirs' in parts[:-1]:
        name = parts[parts.index('work_dirs') + 1]
        if name == 'demo' and len(parts) > parts.index('work_dirs') + 2:
            task = parts[parts.index('work_dirs') + 2]  # tools/run_demos.py's
            return (f"it is made by the demo's {task} task: python "
                    f'tools/run_demos.py --tasks {task}')
        root = config_root()
        tasks = osp.join(root, 'configs')
        for task in sorted(os.listdir(tasks)) if osp.isdir(tasks) else []:
            cfg = osp.join('configs', task, name + '.py')
            if osp.isfile(osp.join(root, cfg)):
                return (f'it is made by training {cfg}: python tools/train.py '
                        f'{cfg}')
    stem = osp.splitext(parts[-1])[0]
    try:
        model = list_models().get(stem)
    except (OSError, ValueError):
        model = None
    if model is not None:
        src = model.get('Converted From') or {}
        if src.get('Command'):
            return (f'get the original weights from {src.get("Weights")} and '
                    f'convert them: {src["Command"]}')
        if model.get('Weights'):
            return f'python -m spikeformer_mm.zoo download {stem}'
    return ''


