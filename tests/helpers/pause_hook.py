"""A hook for the kill -9 test: at a chosen training iteration it writes a
marker file and waits, so the test kills the run at a point it controls
(after the first checkpoint, inside the second epoch) on any CPU speed."""
import time

from mmengine.hooks import Hook

from spikeformer_mm.registry import HOOKS


@HOOKS.register_module()
class PauseAtIterHook(Hook):

    def __init__(self, at_iter, marker):
        self.at_iter = at_iter
        self.marker = marker

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            with open(self.marker, 'w') as f:
                f.write(str(runner.iter))
            while True:  # until the test kills the process
                time.sleep(0.2)
