# Meta-SpikeFormer 15M, T=4, fine-tuned from T=1 with hard distillation from
# CAFormer-B36 (the paper's recipe; its 80.0% model is the 55M one).
_base_ = [
    './metaspikeformer-15m_8xb4_in1k-t4.py',
    '_base_/models/distill_caformer_b36.py',
]
model = {{_base_.distill}}
