"""The paper's spiking RoI head: RoI features per time step."""
import torch
from mmdet.models.roi_heads import StandardRoIHead

from ...registry import MODELS
from ..layers import (check_time_axis, fold_time, require_complete_weights,
                      unfold_time)


@MODELS.register_module()
class SpikingRoIHead(StandardRoIHead):
    """mmdet's ``StandardRoIHead`` on ``[T, B, C, H, W]`` levels (those of
    :class:`~spikeformer_mm.models.necks.SpikingFPN`): RoIs are pooled from
    every time step, and the box and mask heads
    (:class:`SpikingShared2FCBBoxHead`, :class:`SpikingFCNMaskHead`) get
    ``[T, N, C, h, w]`` RoI features and average over T only at their
    outputs (the paper's ``SpikeStandardRoIHead``).

    Only the time axis is new. mmdet's ``loss``/``predict``/``forward``
    (assignment, sampling, targets, losses, post-processing) run unchanged
    on the levels as image-first views ``[B, T, C, H, W]`` (mmdet indexes
    images on the first axis, e.g. for its samplers); the two feature
    extractions (``_bbox_forward``, ``_mask_forward``) take T from that
    shape, pool every step in one call of mmdet's RoI extractor (RoI of
    image ``b`` at step ``t`` -> batch index ``t * B + b``) and restore the
    time axis. The paper pools step by step; the result is the same.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        require_complete_weights(self, 'SpikingRoIHead')  # box, mask heads

    @staticmethod
    def _image_first(x):
        for i, lvl in enumerate(x):
            check_time_axis(lvl, 'SpikingRoIHead', f'level {i}',
                            use='SpikingFPN as the neck')
        return tuple(lvl.transpose(0, 1) for lvl in x)  # views

    def loss(self, x, rpn_results_list, batch_data_samples):
        return super().loss(self._image_first(x), rpn_results_list,
                            batch_data_samples)

    def predict(self, x, rpn_results_list, batch_data_samples,
                rescale=False):
        return super().predict(self._image_first(x), rpn_results_list,
                               batch_data_samples, rescale=rescale)

    def forward(self, x, rpn_results_list, batch_data_samples=None):
        return super().forward(self._image_first(x), rpn_results_list,
                               batch_data_samples)

    def _pool(self, extractor, x, rois):
        """``[T, N, C, h, w]`` RoI features of the ``[B, T, C, H, W]``
        levels ``x``."""
        B, T = x[0].shape[:2]
        steps = rois.repeat(T, 1)
        steps[:, 0] += torch.arange(T, device=rois.device).repeat_interleave(
            rois.shape[0]).to(rois.dtype) * B
        # [B, T] views of [T, B] tensors: folding them copies nothing
        feats = extractor(tuple(fold_time(lvl.transpose(0, 1)) for lvl in
                                x[:extractor.num_inputs]), steps)
        if self.with_shared_head:
            feats = self.shared_head(feats)
        return unfold_time(feats, T)

    def _bbox_forward(self, x, rois):
        bbox_feats = self._pool(self.bbox_roi_extractor, x, rois)
        cls_score, bbox_pred = self.bbox_head(bbox_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred,
                    bbox_feats=bbox_feats)

    def _mask_forward(self, x, rois=None, pos_inds=None, bbox_feats=None):
        assert (rois is not None) ^ (pos_inds is not None
                                     and bbox_feats is not None)
        if rois is not None:
            mask_feats = self._pool(self.mask_roi_extractor, x, rois)
        else:  # a shared extractor: the positives among the box RoIs
            mask_feats = bbox_feats[:, pos_inds.bool()]
        mask_preds = self.mask_head(mask_feats)
        return dict(mask_preds=mask_preds, mask_feats=mask_feats)
