# Meta-SpikeFormer 55M, T=1, ImageNet-1K from scratch with hard distillation
# from CAFormer-B36: the setting of the paper's released 55M_kd.pth (79.7%
# top-1 at T=1). Evaluate the converted weights with
#   python tools/test.py THIS_CONFIG checkpoints/metaspikeformer-55m-kd_in1k-t1.pth
_base_ = [
    './metaspikeformer-55m_8xb64_in1k.py',
    '_base_/models/distill_caformer_b36.py',
]
model = {{_base_.distill}}
