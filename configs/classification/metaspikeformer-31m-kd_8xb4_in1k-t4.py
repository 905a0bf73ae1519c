# Meta-SpikeFormer 31M, T=4, fine-tuned from T=1 with hard distillation
# (alpha 0.5) from CAFormer-B36 (in21k -> in1k), as the paper's 80.0% model.
# The teacher cannot be downloaded by this toolbox: pip install timm, fetch
# the weights of caformer_b36.sail_in22k_ft_in1k yourself, then
#   --cfg-options model.teacher.checkpoint=/path/to/model.safetensors
_base_ = './metaspikeformer-31m_8xb4_in1k-t4.py'
model = dict(
    type='spikeformer_mm.DistillImageClassifier',
    teacher=dict(
        type='spikeformer_mm.TimmTeacher',
        model_name='caformer_b36.sail_in22k_ft_in1k',
        checkpoint='checkpoints/caformer_b36_in21k_ft_in1k.safetensors'),
    head=dict(with_kd=True, kd_alpha=0.5),
)
