# Hard distillation (alpha 0.5) from CAFormer-B36 (in21k -> in1k), the
# paper's teacher for its distilled models (80.0% top-1 for 55M at T=4).
# A -kd config merges it into its student: model = {{_base_.distill}}.
# The teacher cannot be downloaded by this toolbox: pip install timm, fetch
# the weights of caformer_b36.sail_in22k_ft_in1k yourself, then
#   --cfg-options model.teacher.checkpoint=/path/to/model.safetensors
distill = dict(
    type='spikeformer_mm.DistillImageClassifier',
    teacher=dict(
        type='spikeformer_mm.TimmTeacher',
        model_name='caformer_b36.sail_in22k_ft_in1k',
        checkpoint='checkpoints/caformer_b36_in21k_ft_in1k.safetensors'),
    head=dict(with_kd=True, kd_alpha=0.5),
)
