# E-SpikeFormer (Spike-driven Transformer V3, Yao et al., TPAMI 2025): the
# channels of each released size's feature taps (ESpikeFormer(arch)
# .tap_channels; tests/test_configs.py checks them against the backbones)
# and the classification heads' neuron. Base models (5M/10M/19M) have five
# taps like Meta-SpikeFormer (strides 2, 4, 8, 16, 16), large models
# (83M/171M) four (strides 2, 4, 8, 16).
v3_tap_channels = {
    '5M': [16, 32, 64, 128, 192],
    '10M': [24, 48, 96, 192, 240],
    '19M': [32, 64, 128, 256, 360],
    '83M': [64, 128, 256, 512],
    '171M': [98, 196, 384, 768],
}
# V3's head quantiser: MultiSpike with D=4 whose counts are not divided
# (`MultiSpike(Norm=1)`; the large file's rounds half up and passes its
# gradient on the open window: spikeformer_mm/models/neurons/multispike.py).
# The backbones default to V3's neuron, so only the heads name theirs.
v3_base_head_neuron = dict(type='MultiSpike', max_spike_count=4, norm=1)
v3_large_head_neuron = dict(type='MultiSpike', max_spike_count=4, norm=1,
                            rounding='half_up', grad_window='open')
