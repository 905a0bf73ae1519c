# Meta-SpikeFormer 31M, T=4, fine-tuned from the T=1 ImageNet weights
# (paper recipe). Set load_from to your T=1 checkpoint.
_base_ = [
    './metaspikeformer-31m_8xb64_in1k.py',
    '_base_/schedules/imagenet_t4_finetune_20e.py',
]
model = dict(backbone=dict(T=4, with_cp=True))
train_dataloader = dict(batch_size=4)
val_dataloader = dict(batch_size=16)
test_dataloader = dict(batch_size=16)
load_from = 'work_dirs/metaspikeformer-31m_8xb64_in1k/epoch_200.pth'
