"""Hard distillation for the T=4 ImageNet fine-tune (paper, Sec. 5.1)."""
import os.path as osp

import torch
import torch.nn as nn
from mmpretrain.models import ImageClassifier

from ...registry import MODELS


@MODELS.register_module()
class DistillImageClassifier(ImageClassifier):
    """An mmpretrain ``ImageClassifier`` trained with DeiT-style hard
    distillation: a frozen teacher labels each training image (its argmax),
    and the head's distillation branch (``SpikingClsHead(with_kd=True)``)
    learns those labels. The paper used CAFormer-B36 (in21k -> in1k).

    The teacher is kept outside the module tree: it is never saved in the
    student's checkpoints and never trained.

    Args:
        teacher (dict): model config of the teacher, built in the
            ``spikeformer_mm`` scope (e.g. :class:`TimmTeacher`) or scoped
            (``'mmpretrain.ImageClassifier'``).
        **kwargs: arguments of ``ImageClassifier``.
    """

    def __init__(self, teacher, **kwargs):
        super().__init__(**kwargs)
        if not getattr(self.head, 'with_kd', False):
            raise ValueError('DistillImageClassifier needs a head with '
                             'with_kd=True')
        t = MODELS.build(teacher)
        t.eval().requires_grad_(False)
        self._teacher = [t]  # a list hides it from state_dict and .to()

    @property
    def teacher(self):
        return self._teacher[0]

    @torch.no_grad()
    def teacher_labels(self, inputs):
        t = self.teacher
        p = next(t.parameters(), None)
        if p is not None and p.device != inputs.device:
            t.to(inputs.device)
        out = t(inputs)
        if isinstance(out, (tuple, list)):
            out = out[-1]
        return out.argmax(-1)

    def loss(self, inputs, data_samples):
        labels = self.teacher_labels(inputs)
        for s, y in zip(data_samples, labels):
            s.set_field(y.view(1), 'teacher_label', field_type='metainfo')
        return super().loss(inputs, data_samples)


@MODELS.register_module()
class TimmTeacher(nn.Module):
    """A timm image classifier as a distillation teacher.

    The paper's teacher is ``caformer_b36.sail_in22k_ft_in1k``. This toolbox
    downloads nothing at run time: install timm (``pip install timm``), fetch
    the weights yourself (e.g. the model's ``model.safetensors`` from the
    Hugging Face hub) and give their path as ``checkpoint``.
    """

    def __init__(self, model_name='caformer_b36.sail_in22k_ft_in1k',
                 checkpoint=None, num_classes=1000):
        super().__init__()
        if checkpoint is None or not osp.isfile(str(checkpoint)):
            dest = str(checkpoint or 'checkpoints/teacher.safetensors')
            folder = osp.dirname(dest) or '.'
            raise FileNotFoundError(
                f'TimmTeacher: teacher weights not found: {checkpoint!r}. '
                f'This toolbox downloads nothing at run time; fetch the '
                f'weights of {model_name} yourself, e.g.: pip install timm '
                f'huggingface_hub && huggingface-cli download timm/'
                f'{model_name} model.safetensors --local-dir {folder} && mv '
                f'{osp.join(folder, "model.safetensors")} {dest} (or set '
                f'model.teacher.checkpoint=<path>)')
        try:
            import timm
        except ImportError:
            raise ImportError('the distillation teacher needs timm: '
                              'pip install timm') from None
        self.model = timm.create_model(model_name, pretrained=False,
                                       num_classes=num_classes)
        if str(checkpoint).endswith('.safetensors'):
            from safetensors.torch import load_file
            sd = load_file(checkpoint)
        else:
            sd = torch.load(checkpoint, map_location='cpu', weights_only=True)
            sd = sd.get('state_dict', sd.get('model', sd))
        self.model.load_state_dict(sd)

    def forward(self, x):
        return self.model(x)
