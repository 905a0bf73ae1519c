# What every run of this toolbox's configs does to keep files and results
# safe, whichever tool reads the config (tools/train.py, tools/test.py,
# mmdet's init_detector, mmpretrain's get_model, mmseg's init_model...);
# docs/reliability.md. Every config here inherits it.
# - Checkpoints are read without unpickling code (weights_only=True with
#   the types mmengine's own checkpoints hold; zoo:// names and verified
#   http downloads), and every file mmengine writes locally (checkpoints,
#   last_checkpoint, log dumps) is written atomically:
#   spikeformer_mm.engine.safe_io, imported when the config is read.
# - A NaN or infinite loss term, parameter or buffer stops training, naming
#   them, before a checkpoint of them is written (NaNGuardHook). A config
#   with hooks or imports of its own keeps the policy by appending:
#   custom_hooks = [*_base_.safety_hooks, dict(type=...)]
#   custom_imports = dict(imports=[*_base_.custom_imports.imports, 'mine'])
#   (the tools put back what a config drops, with a warning).
custom_imports = dict(imports=['spikeformer_mm.engine.safe_io'],
                      allow_failed_imports=False)
# - A resumed run (--resume) equals the uninterrupted one on one machine:
#   the random state at each epoch (or batch) start is a function of the
#   seed and that number (ResumableRandomnessHook).
# - A segmentation data set with labels outside its classes is named at
#   the start of training, validation and testing, whatever its pipeline
#   (SegLabelCheckHook; mmseg scores such pixels silently).
safety_hooks = [dict(type='spikeformer_mm.NaNGuardHook'),
                dict(type='spikeformer_mm.ResumableRandomnessHook'),
                dict(type='spikeformer_mm.SegLabelCheckHook')]
custom_hooks = safety_hooks
