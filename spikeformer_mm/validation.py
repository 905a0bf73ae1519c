"""The one rule for an argument that takes one of a fixed set of values."""
from typing import Any, Iterable


def check_choice(name: str, value: Any, choices: Iterable) -> None:
    """Raise ``ValueError('<name> must be one of <choices>, got <value>')``
    unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')
