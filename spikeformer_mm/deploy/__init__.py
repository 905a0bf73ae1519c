"""Deployment: re-parameterisation (:mod:`.reparameterize`), the binary
(spike-driven) form of integer-spike models (:mod:`.binary_expansion`), the fastest
inference form per device and dtype (:mod:`.inference`), ONNX export and
int8 quantization (:mod:`.onnx`), and the onnxruntime / OpenVINO engines
(:mod:`.engines`). ``onnx`` and ``engines`` import their runtimes only
when used."""
from .binary_expansion import (BinarySlotLayer, check_binary_form,
                               expand_to_binary, is_binary_form)
from .engines import ENGINES, engine_step
from .fast_inference import (FASTEST_REP_CONV, INFERENCE_DTYPES, fastest_rep_conv,
                        prepare_inference)
from ..tasks import model_task
from .onnx import (INT8_OPS, check_onnx, export_onnx, quantize_int8,
                   require_deploy_packages)
from .reparameterize import switch_to_deploy

__all__ = ['BinarySlotLayer', 'check_binary_form', 'expand_to_binary',
           'is_binary_form', 'ENGINES', 'engine_step', 'FASTEST_REP_CONV',
           'INFERENCE_DTYPES',
           'fastest_rep_conv', 'prepare_inference', 'INT8_OPS', 'check_onnx',
           'export_onnx', 'model_task', 'quantize_int8',
           'require_deploy_packages', 'switch_to_deploy']
