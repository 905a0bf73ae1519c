"""Weights that do not fit are refused by the model itself, through every
mm entry point (mmengine only warns and computes from random layers):
mmpretrain's get_model and inferencer, mmdet's init_detector, mmseg's
init_model, mmengine's load_checkpoint (load_from, --resume) and load_from;
with an explicit opt-out. The whole model is checked, not only this
toolbox's modules: mmdet's RPN/RoI heads, mmseg's decode head."""
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
    with pytest.raises(IncompleteWeightsError,
                       match=r'ImageClassifier \(the model\).*det\.pth'):
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
                       match=r'MaskRCNN \(the model\).* tensors are missing '
                             r'\(rpn_head\.'):
        init_detector(DET, checkpoints['cls'], device='cpu')
    with pytest.raises(IncompleteWeightsError,
                       match=r'EncoderDecoder \(the model\).* missing '
                             r'\(decode_head\.'):
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
        r.stderr and str(ck) in r.stderr
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


def _without(src, prefixes, dst, extra=None):
    """``src``'s checkpoint less the tensors under ``prefixes`` (plus
    ``extra`` tensors), saved as ``dst``."""
    sd = torch.load(src, weights_only=True)['state_dict']
    sd = {k: v for k, v in sd.items() if not k.startswith(prefixes)}
    sd.update(extra or {})
    torch.save({'state_dict': sd}, dst)
    return str(dst)


def test_a_checkpoint_missing_only_mm_heads_is_refused(checkpoints, tmp_path):
    """Mutation caught: without the model-level guard
    (``strict_loading.guard_models_of`` not applied to MetaSpikeFormer) each
    of these loads with random mm heads and only a warning."""
    from mmdet.apis import init_detector
    from mmengine.runner import load_checkpoint
    from mmpretrain import get_model
    from mmseg.apis import init_model

    from spikeformer_mm.models import IncompleteWeightsError, lenient_loading
    det = _without(checkpoints['det'], ('rpn_head.', 'roi_head.'),
                   tmp_path / 'det_no_heads.pth')
    with pytest.raises(IncompleteWeightsError,
                       match=r'MaskRCNN \(the model\): the weights loaded '
                             r'into it from det_no_heads\.pth .* tensors are '
                             r'missing \((roi|rpn)_head\.'):
        init_detector(DET, det, device='cpu')
    seg = _without(checkpoints['seg'], ('decode_head.', ),
                   tmp_path / 'seg_no_head.pth')
    with pytest.raises(IncompleteWeightsError,
                       match=r'EncoderDecoder \(the model\).* missing '
                             r'\(decode_head\.'):
        init_model(SEG, seg, device='cpu')
    # a tensor the model does not have is refused too
    extra = _without(checkpoints['cls'], (), tmp_path / 'cls_extra.pth',
                     extra={'head.fc_kd.weight': torch.zeros(3)})
    with pytest.raises(IncompleteWeightsError,
                       match=r'SpikingClsHead \(head\.\).* 1 tensors are '
                             r'not in it \(fc_kd'):
        get_model(CLS, pretrained=extra)
    # mmengine's own loader (load_from, --resume), on any built model
    from spikeformer_mm.apis import init_model as our_init_model
    model = our_init_model(DET)
    with pytest.raises(IncompleteWeightsError, match='rpn_head'):
        load_checkpoint(model, det, map_location='cpu')
    with lenient_loading():  # the explicit opt-out
        load_checkpoint(model, det, map_location='cpu')
    # a part's own key upgrades come first: a detector checkpoint of the
    # older list-form neck (keys neck.1.*) loads, checked by SpikeToDense
    sd = torch.load(checkpoints['det'], weights_only=True)['state_dict']
    old = tmp_path / 'det_list_form.pth'
    torch.save({'state_dict': {k.replace('neck.neck.', 'neck.1.'): v
                               for k, v in sd.items()}}, old)
    det_model = init_detector(DET, str(old), device='cpu')
    assert torch.equal(det_model.neck.neck.fpn_convs[0].conv.weight,
                       sd['neck.neck.fpn_convs.0.conv.weight'])


def test_another_class_count_is_refused(checkpoints):
    """A detector built for 3 classes refuses the 10-class checkpoint (mmdet
    alone loads it with random classifier layers)."""
    from mmdet.apis import init_detector

    from spikeformer_mm.models import IncompleteWeightsError
    with pytest.raises(IncompleteWeightsError,
                       match=r'MaskRCNN .*other shapes \(roi_head\.'):
        init_detector(DET, checkpoints['det'], device='cpu', cfg_options={
            'model.roi_head.bbox_head.num_classes': 3,
            'model.roi_head.mask_head.num_classes': 3})


def test_partial_load_keys_reach_the_model_check(tmp_path):
    """The backbone's ``partial_load_keys`` are the model's only
    exceptions: a checkpoint without just those loads, one without any
    other tensor is refused."""
    from spikeformer_mm.apis import init_model
    from spikeformer_mm.models import IncompleteWeightsError
    key = 'downsample1_1.encode_conv.weight'
    model = init_model(CLS, cfg_options={
        'model.backbone.partial_load_keys': [key]})
    sd = model.state_dict()
    model.load_state_dict({k: v for k, v in sd.items()
                           if k != f'backbone.{key}'}, strict=False)
    with pytest.raises(IncompleteWeightsError, match=r'missing \(head\.'):
        model.load_state_dict({k: v for k, v in sd.items()
                               if not k.startswith('head.')}, strict=False)


def test_an_adapted_input_conv_loads_an_image_models_kernel(checkpoints):
    """``adapt_input_conv``: an RGB classifier's first conv, loaded into a
    2-channel (event) model through mmengine's init_cfg and torch's own
    loader, becomes its kernel summed over RGB for each polarity; every
    other tensor still must fit, and without the option the reshaped
    kernel is refused. Mutation caught: the adaptation registered after the
    strict check (refused), and a mean instead of the sum."""
    from spikeformer_mm.apis import init_model
    from spikeformer_mm.models import IncompleteWeightsError
    key = 'backbone.downsample1_1.encode_conv.weight'
    rgb = torch.load(checkpoints['cls'], weights_only=True)['state_dict']
    opts = {'model.backbone.in_channels': 2,
            'model.backbone.adapt_input_conv': True}
    model = init_model(CLS, cfg_options={**opts, 'model.backbone.init_cfg': {
        'type': 'Pretrained', 'checkpoint': checkpoints['cls'],
        'prefix': 'backbone.'}})
    model.init_weights()  # what the Runner does with init_cfg
    gray = rgb[key].sum(1, keepdim=True)
    assert torch.equal(model.state_dict()[key], torch.cat([gray, gray], 1))
    other = 'backbone.downsample1_1.encode_bn.weight'
    assert torch.equal(model.state_dict()[other], rgb[other])
    fresh = init_model(CLS, cfg_options=opts)
    fresh.load_state_dict(rgb)  # the whole model, strictly: adapted
    assert torch.equal(fresh.state_dict()[key], model.state_dict()[key])
    with pytest.raises(IncompleteWeightsError, match=r'missing \(head\.'):
        fresh.load_state_dict({k: v for k, v in rgb.items()
                               if not k.startswith('head.')}, strict=False)
    odd = dict(rgb, **{key: rgb[key][:, :, :3, :3]})  # another kernel size
    with pytest.raises(IncompleteWeightsError, match='encode_conv.weight'):
        fresh.load_state_dict(odd)  # not adapted: refused by name
    plain = init_model(CLS, cfg_options={'model.backbone.in_channels': 2})
    with pytest.raises(IncompleteWeightsError, match='other shapes'):
        plain.load_state_dict(rgb)


def test_the_file_is_named_only_for_its_own_weights(checkpoints):
    """The refusal names the checkpoint file whose weights were refused,
    never the file read before them (another file's weights, read by
    another loader, get no file name). Mutation caught: naming the last
    file read whatever the weights."""
    from spikeformer_mm.apis import init_model
    from spikeformer_mm.checkpoint import load_checkpoint_file
    from spikeformer_mm.models import IncompleteWeightsError
    model = init_model(DET)
    sd = load_checkpoint_file(checkpoints['det'])['state_dict']
    partial = {k: v for k, v in sd.items() if not k.startswith('rpn_head.')}
    with pytest.raises(IncompleteWeightsError, match=r'from det\.pth'):
        model.load_state_dict(partial, strict=False)
    # another file's weights (read by torch itself) get no file name
    seg = torch.load(checkpoints['seg'], weights_only=True)['state_dict']
    with pytest.raises(IncompleteWeightsError) as e:
        model.load_state_dict(seg, strict=False)
    assert 'det.pth' not in str(e.value) and 'into it do not fit' in \
        str(e.value)
