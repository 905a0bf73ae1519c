# mmpretrain's runtime, with this toolbox's safety (../safety.py).
_base_ = ['mmpretrain::_base_/default_runtime.py', '../safety.py']
