# Meta-SpikeFormer 15M on CIFAR10-DVS (10 classes, 128x128 sensor): the DVS
# Gesture config with the data changed. The original release's class
# folders of AEDAT 2.0 recordings (data/cifar10_dvs/airplane/
# cifar10_airplane_0.aedat ...), the first 900 of each class for training
# and the last 100 for testing, as the SNN papers split it.
_base_ = ['./metaspikeformer-15m_1xb16_dvs-gesture-t16.py']
model = dict(head=dict(num_classes=10))
dataset_type = 'spikeformer_mm.CIFAR10DVSEvents'
data_root = 'data/cifar10_dvs'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
