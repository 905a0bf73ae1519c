# Channels of the five feature taps of each of the paper's sizes of
# Meta-SpikeFormer (MetaSpikeFormer(arch).tap_channels: embed_dims[0] // 2,
# then embed_dims; tests/test_configs.py checks them against the backbone).
# Necks and heads take their in_channels from here, for their arch and the
# backbone's out_indices:
#   head=dict(in_channels=_base_.tap_channels[arch][-1])
#   neck=dict(in_channels=[_base_.tap_channels[arch][i] for i in out_indices])
tap_channels = {
    '15M': [32, 64, 128, 256, 360],
    '31M': [48, 96, 192, 384, 480],
    '55M': [64, 128, 256, 512, 640],
}
