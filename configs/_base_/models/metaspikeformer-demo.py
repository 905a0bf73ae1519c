# The demos' backbone, written once: a small Meta-SpikeFormer (T=2) that the
# classification demo trains on the embedded digits and the detection,
# segmentation and event demos start from (dense_backbone: initialised from
# the classification demo's checkpoint, `pretrained`).
#
# Deviation from the paper, on purpose: attn_scale=1.0 instead of 0.125.
# The fixed 0.125 assumes ImageNet token grids (14x14 at 224 px); on a 2x2
# grid with 16-dim heads the product Q(K^T V) * 0.125 rarely reaches the
# attention neuron's threshold of 0.5, the neuron stays silent and the model
# learns slowly (measured: 9% top-1 after one minute, against 91% with 1.0);
# in Mask R-CNN on 8x8 grids the BNs after it saw all-zero inputs and the
# loss was NaN at the second iteration (docs/model.md).
backbone = dict(
    type='spikeformer_mm.MetaSpikeFormer',
    arch=dict(embed_dims=[16, 32, 64, 128]),
    T=2,
    attn_scale=1.0)
# channels of its five taps (tests/test_configs.py checks them)
tap_channels = [8, 16, 32, 64, 128]
# the classification demo's checkpoint (tools/run_demos.py --tasks
# classification makes it)
pretrained = 'work_dirs/demo/classification/epoch_14.pth'
dense_backbone = dict(
    **backbone,
    init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                  prefix='backbone.'))
