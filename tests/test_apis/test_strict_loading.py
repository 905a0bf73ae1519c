"""Weights that do not fit are refused by the modules themselves, through
every mm entry point (mmengine only warns and computes from random layers):
mmpretrain's get_model and inferencer, mmdet's init_detector, mmseg's
init_model, and load_from; with an explicit opt-out."""
import os.path as osp

import pytest
import torch

from helpers import ROOT, run_py

CLS = osp.join(ROOT, 'configs/classification/'
               'metaspikeformer-demo_1xb32_digits-t2.py')
DET = osp.join(ROOT, 'configs/detection/'
               'mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py')
SEG = osp.join(ROOT, 'configs/segmentation/'
               'fpn_metaspikeformer-demo_digits-64x64-t2.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A checkpoint of each demo task (random weights, the real keys)."""
    from spikeformer_mm.apis import init_model
    d = tmp_path_factory.mktemp('ck')
    out = {}
    for task, cfg in (('cls', CLS), ('det', DET), ('seg', SEG)):
        model = init_model(cfg)
        out[task] = str(d / f'{task}.pth')
        torch.save({'state_dict': model.state_dict()}, out[task])
    return out


def test_mmpretrain_get_model_and_inferencer(checkpoints):
    from mmengine.config import Config
    from mmpretrain import get_model
    from mmpretrain.apis import ImageClassificationInferencer

    from spikeformer_mm.models.layers import IncompleteWeightsError
    Config.fromfile(CLS)  # what the entry points read first
    with pytest.raises(IncompleteWeightsError, match='SpikingClsHead'):
        get_model(CLS, pretrained=checkpoints['det'])
    with pytest.raises(IncompleteWeightsError):
        ImageClassificationInferencer(model=CLS,
                                      pretrained=checkpoints['seg'])
    assert get_model(CLS, pretrained=checkpoints['cls']) is not None


def test_mmdet_init_detector_and_mmseg_init_model(checkpoints):
    from mmdet.apis import init_detector
    from mmseg.apis import init_model

    from spikeformer_mm.models.layers import (IncompleteWeightsError,
                                              lenient_loading)
    with pytest.raises(IncompleteWeightsError,
                       match=r'SpikeToDense \(neck\.\).* tensors are missing'):
        init_detector(DET, checkpoints['cls'], device='cpu')
    with pytest.raises(IncompleteWeightsError, match='other shapes'):
        init_model(SEG, checkpoints['det'], device='cpu')
    det = init_detector(DET, checkpoints['det'], device='cpu')
    sd = torch.load(checkpoints['det'], weights_only=True)['state_dict']
    assert torch.equal(det.neck.neck.fpn_convs[0].conv.weight,
                       sd['neck.neck.fpn_convs.0.conv.weight'])
    with lenient_loading():  # the explicit opt-out
        init_detector(DET, checkpoints['cls'], device='cpu')


@pytest.mark.e2e  # trains through the tools
def test_load_from_another_arch_is_refused(tmp_path):
    from spikeformer_mm.apis import init_model
    other = init_model(CLS, cfg_options={
        'model.backbone.arch.embed_dims': [16, 32, 64, 96],
        'model.head.in_channels': 96})
    ck = tmp_path / 'other.pth'
    torch.save({'state_dict': other.state_dict()}, ck)
    r = run_py('tools/train.py', CLS, '--work-dir', str(tmp_path / 'wd'),
               '--cfg-options', f'load_from={ck}', 'train_cfg.max_epochs=1',
               'train_dataloader.dataset.indices=8',
               'val_dataloader.dataset.indices=8',
               'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False',
               'val_dataloader.num_workers=0',
               'val_dataloader.persistent_workers=False', check=False)
    assert r.returncode == 1
    assert 'MetaSpikeFormer (backbone.)' in r.stderr and 'other shapes' in \
        r.stderr
    assert not list((tmp_path / 'wd').glob('*.pth'))


def test_a_copy_checks_its_own_tensors():
    """A deep copy (an EMA model, a deployed copy) checks the weights
    against itself, not against the module it was copied from."""
    import copy

    from helpers import TINY_ARCH
    from spikeformer_mm.deploy import switch_to_deploy
    from spikeformer_mm.models import MetaSpikeFormer
    from spikeformer_mm.models.layers import IncompleteWeightsError
    m = MetaSpikeFormer(arch=TINY_ARCH)
    deployed = switch_to_deploy(copy.deepcopy(m))
    deployed.load_state_dict(copy.deepcopy(deployed.state_dict()))
    with pytest.raises(IncompleteWeightsError, match='missing'):
        deployed.load_state_dict(m.state_dict(), strict=False)
