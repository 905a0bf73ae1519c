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


# Scripts with an output argument that need no check, and why. Anything
# else that takes an output path must call cli.refuse_overwriting_inputs.
NO_INPUT_FILES = {
    'tools/analysis_tools/benchmark.py': 'reads no file (random inputs)',
    'tools/analysis_tools/benchmark_suite.py': 'reads no file',
    'tools/analysis_tools/spike_count_table.py': 'reads no file but the '
    'configs it names itself',
    'tools/dataset_converters/make_digits.py': 'reads no file; the dataset '
    'builder refuses any folder it did not write (MANIFEST.json)',
    'projects/gradio_demo/app.py': '--work-dir is read (the demo '
    'checkpoints), nothing is written there',
}
OUTPUT_ARG = r'^-*(out|output|dst|dest|work[-_]dir|show[-_]dir|save|plot)' \
    r'([-_].*)?$|[-_](out|file)$'


def _writing_scripts():
    """{script: [its output-looking argument names]} for every script under
    tools/, demo/ and projects/ that declares argparse arguments."""
    import ast
    import glob
    import re
    from helpers import ROOT
    found = {}
    for path in sorted(glob.glob(f'{ROOT}/tools/**/*.py', recursive=True) +
                       glob.glob(f'{ROOT}/demo/**/*.py', recursive=True) +
                       glob.glob(f'{ROOT}/projects/**/*.py', recursive=True)):
        tree = ast.parse(open(path).read())
        outs = [a.value for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and getattr(node.func, 'attr', None) == 'add_argument'
                for a in node.args[:1] if isinstance(a, ast.Constant)
                and isinstance(a.value, str)
                and re.search(OUTPUT_ARG, a.value)]
        if outs:
            found[os.path.relpath(path, ROOT)] = outs
    return found


def test_every_writing_script_checks_its_outputs():
    """Discovers the scripts (argparse arguments named out/--out*/dst/
    --work-dir/--plot...) instead of listing them: a new writing tool
    without the check fails here. Mutation caught: dropping the call from
    demo/image_demo.py (or any tool)."""
    from helpers import ROOT
    scripts = _writing_scripts()
    assert 'demo/image_demo.py' in scripts and \
        'tools/analysis_tools/vis_spikes.py' in scripts  # found, not listed
    missing = [f'{s} ({", ".join(a)})' for s, a in scripts.items()
               if s not in NO_INPUT_FILES and 'refuse_overwriting_inputs(' not
               in open(os.path.join(ROOT, s)).read()]
    assert not missing, ('these scripts write to a path argument without '
                         'spikeformer_mm.cli.refuse_overwriting_inputs: '
                         f'{missing}')
    stale = set(NO_INPUT_FILES) - set(scripts)
    assert not stale, f'exempted scripts that no longer exist: {stale}'


def test_folder_outputs_never_replace_the_input(tmp_path):
    """image_demo.py's --out-dir (mmpretrain saves OUT_DIR/<image name>)
    and vis_spikes.py's --out (overview.png, stage*_*.png...) refuse a
    folder where they would write over their input; in-process (the
    refusal comes before the model is built)."""
    import argparse

    from spikeformer_mm.cli import refuse_overwriting_inputs
    img = tmp_path / 'digit.png'
    img.write_bytes(b'not really a png')
    args = argparse.Namespace(img=str(img), config='c.py', checkpoint='none',
                              out_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r'^out-dir .*it would write .*'
                                         r'digit\.png\): the same file as '
                                         r'img'):
        refuse_overwriting_inputs(args, ['img', 'config', 'checkpoint'], [],
                                  planned={'out_dir': [
                                      str(tmp_path / 'digit.png')]})
    # another folder, or another name in the same folder: fine
    refuse_overwriting_inputs(args, ['img'], [], planned={
        'out_dir': [str(tmp_path / 'overview.png')]})


@pytest.mark.e2e  # runs the tools in subprocesses
@pytest.mark.parametrize('tool', ['image_demo', 'vis_spikes'])
def test_image_tools_refuse_writing_over_their_image(tmp_path, tool):
    import numpy as np
    from PIL import Image
    name = 'digit.png' if tool == 'image_demo' else 'overview.png'
    img = tmp_path / name
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(img)
    before = img.read_bytes()
    ck = tmp_path / 'model.pth'
    from spikeformer_mm.apis import init_model
    torch.save({'state_dict': init_model(CLS).state_dict()}, ck)
    if tool == 'image_demo':
        argv = ['demo/image_demo.py', img, CLS, ck, '--out-dir', tmp_path]
        flag = 'out-dir'
    else:
        argv = ['tools/analysis_tools/vis_spikes.py', CLS, ck, img, '--out',
                tmp_path]
        flag = 'out'
    r = run_py(*argv, check=False)
    assert r.returncode == 1, r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {flag} ') and \
        f'{name}): the same file as' in last, last
    assert img.read_bytes() == before
    if tool == 'vis_spikes':  # no picture was written either
        assert sorted(p.name for p in tmp_path.iterdir()) == \
            ['model.pth', name]
