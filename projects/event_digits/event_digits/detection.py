"""The event-detection demo's dataset: Gen1-format recordings of moving
digits (:mod:`.moving`), built on first use, read by the package's Gen1
reader and dataset (imported by the detection configs only: it needs
mmdet)."""
from mmengine.logging import print_log

from spikeformer_mm.datasets.digits import PALETTE
from spikeformer_mm.datasets.gen1 import Gen1Detection
from spikeformer_mm.registry import DATASETS

from .moving import ensure_moving_digits


@DATASETS.register_module()
class MovingDigitsGen1(Gen1Detection):
    """:class:`~spikeformer_mm.datasets.gen1.Gen1Detection` of the moving
    digits (10 classes, the digit values).

    Args:
        data_root (str): where the recordings are (or are built).
        build (dict, optional): build them there on first use with these
            settings of :func:`.moving.write_moving_digits` (``{}``: the
            defaults); None reads what is there (Gen1 files of your own).
        **kwargs: :class:`Gen1Detection`'s.
    """
    METAINFO = dict(classes=tuple(str(i) for i in range(10)),
                    palette=[tuple(c) for c in PALETTE])

    def __init__(self, data_root, split='train', build=None, **kwargs):
        if build is not None:
            ensure_moving_digits(
                data_root, logger=lambda m: print_log(m, logger='current'),
                **build)
        super().__init__(data_root=data_root, split=split, **kwargs)
