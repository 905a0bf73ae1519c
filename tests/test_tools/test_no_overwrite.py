"""No tool writes over its own input (or one output over another): the
error names both arguments and the input is left as it was."""
import os

import pytest
import torch

from helpers import run_py

CLS = 'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py'
DET = 'configs/detection/mask-rcnn_metaspikeformer-demo_fpn_digits-t2.py'


@pytest.fixture
def ckpt(tmp_path):
    p = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, p)
    return p


@pytest.mark.parametrize('argv,out_flag,in_flag', [
    (['tools/deployment/export_onnx.py', CLS, '{ck}', '{ck}'], 'out',
     'checkpoint'),
    (['tools/deployment/export_onnx.py', CLS, '{ck}', '{tmp}/a.onnx',
      '--int8', '{tmp}/a.onnx'], 'int8', 'out'),
    (['tools/model_converters/reparameterize.py', CLS, '{ck}', '{link}'],
     'out', 'checkpoint'),
    (['tools/model_converters/publish_model.py', '{ck}', '{ck}'], 'out-file',
     'in-file'),
    (['tools/model_converters/sdtv2_to_mm.py', '{ck}', '{ck}'], 'dst',
     'src'),
    (['tools/test.py', CLS, '{ck}', '--metrics-out', '{ck}'], 'metrics-out',
     'checkpoint'),
    (['tools/analysis_tools/energy.py', CLS, '{ck}', '--plot', CLS], 'plot',
     'config'),
    (['demo/det_demo.py', '{ck}', DET, '{ck}', '--out', '{ck}'], 'out',
     'img'),
])
def test_a_tool_never_writes_over_its_input(tmp_path, ckpt, argv, out_flag,
                                            in_flag):
    link = tmp_path / 'link.pth'
    os.symlink(ckpt, link)  # the same file under another name
    before = ckpt.read_bytes()
    args = [a.format(ck=ckpt, tmp=tmp_path, link=link) for a in argv]
    r = run_py(*args, check=False)
    assert r.returncode == 1, r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {out_flag} ') and \
        f'the same file as {in_flag}' in last, last
    assert ckpt.read_bytes() == before
