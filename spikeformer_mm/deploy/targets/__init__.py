"""Export targets: the engines beside PyTorch that run the exported ONNX
model, one module each and one row of :data:`TARGETS`. A row gives the
package the engine needs, the dtypes it runs and how to open a session
(a callable running one batch). The tools take their ``--engine`` choices
from here (:data:`~spikeformer_mm.deploy.engines.ENGINES`); a new target
is a module in this folder and a row below (docs/architecture.md,
"Extending")."""
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

from ...validation import check_choice
from . import onnxruntime_target, openvino_target


@dataclass(frozen=True)
class Target:
    name: str
    package: str  # what pip installs (requirements/deploy.txt)
    dtypes: Tuple[str, ...]  # what it runs: 'fp32', 'int8' (quantized), ...
    why_not: str  # the dtypes it does not run, and why
    session: Callable  # (onnx path, dtype, threads) -> run(x: ndarray)


TARGETS: Dict[str, Target] = {t.name: t for t in (
    Target('onnxruntime', 'onnxruntime', ('fp32', 'int8'),
           'its CPU provider has no bf16 convolutions',
           onnxruntime_target.session),
    Target('openvino', 'openvino', ('fp32', 'int8', 'bf16'), '',
           openvino_target.session),
)}


def get_target(name: str) -> Target:
    """The row of target ``name``; an unknown one is refused with the
    choices."""
    check_choice('engine', name, tuple(TARGETS))
    return TARGETS[name]


def check_target_dtype(name: str, dtype: str) -> None:
    """Refuse ``dtype`` on a target that does not run it, saying why."""
    t = get_target(name)
    if dtype not in t.dtypes:
        raise ValueError(f'--engine {name}: {" or ".join(t.dtypes)} ('
                         f'{t.why_not})')
