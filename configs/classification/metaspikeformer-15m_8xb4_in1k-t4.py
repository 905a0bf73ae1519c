# Meta-SpikeFormer 15M, T=4, fine-tuned from the T=1 ImageNet weights
# (paper recipe). Set load_from to your T=1 checkpoint, e.g.
#   --cfg-options load_from=work_dirs/metaspikeformer-15m_8xb64_in1k/epoch_200.pth
# T=4 activations take about 4x the memory of T=1: with_cp recomputes each
# block in the backward pass.
_base_ = [
    './metaspikeformer-15m_8xb64_in1k.py',
    '_base_/schedules/imagenet_t4_finetune_20e.py',
]
model = dict(backbone=dict(T=4, with_cp=True))
train_dataloader = dict(batch_size=4)
val_dataloader = dict(batch_size=16)
test_dataloader = dict(batch_size=16)
load_from = 'work_dirs/metaspikeformer-15m_8xb64_in1k/epoch_200.pth'
