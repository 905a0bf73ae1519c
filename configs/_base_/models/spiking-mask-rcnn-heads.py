# The paper's spiking detection neck and heads, written once for the
# spiking Mask R-CNN configs (configs/detection/*_spikefpn_*): the time axis
# is kept through a spiking FPN, RPN and RoI heads (a LIF neuron before
# every conv and fully connected layer) and averaged over T only at the
# class scores, box deltas and mask logits. A config inheriting a dense
# Mask R-CNN config merges these into its model, keeping the neck's
# in_channels (the backbone's out_channels):
#   model = dict(_base_.spiking_heads, neck=dict(
#       _base_.spiking_heads.neck, in_channels=_base_.model.neck.in_channels))
#
# Deviation from the paper, on purpose: a BatchNorm after the convs and
# fully connected layers of the neck and heads (norm_cfg; it folds into
# them at deployment). Without it their outputs are far below the next
# neuron's threshold at initialisation: on the demo model every neuron
# after the FPN's output convs fired no spike at all (measured; with it
# they fire at 1-4%), and training starts with silent heads.
norm_cfg = dict(type='BN')
spiking_heads = dict(
    neck=dict(_delete_=True, type='spikeformer_mm.SpikingFPN',
              out_channels=256, num_outs=5, norm_cfg=norm_cfg),
    rpn_head=dict(type='spikeformer_mm.SpikingRPNHead', norm_cfg=norm_cfg),
    roi_head=dict(
        type='spikeformer_mm.SpikingRoIHead',
        bbox_head=dict(type='spikeformer_mm.SpikingShared2FCBBoxHead',
                       norm_cfg=norm_cfg),
        mask_head=dict(type='spikeformer_mm.SpikingFCNMaskHead',
                       norm_cfg=norm_cfg)))
