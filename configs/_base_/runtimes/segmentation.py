# mmseg's runtime, with this toolbox's safety (../safety.py).
_base_ = ['mmseg::_base_/default_runtime.py', '../safety.py']
