import argparse
import json
import os.path as osp
import pickle

import pytest
import torch

from helpers import run_py
from spikeformer_mm.checkpoint import (UnsafeCheckpointError, convert_official,
                                       load_checkpoint_file)


def test_converted_file_is_weights_only(converted_tiny, reference_dir):
    ck = torch.load(converted_tiny, weights_only=True)
    assert set(ck) == {'state_dict', 'meta'}
    keys = json.load(open(osp.join(reference_dir,
                                   'sdtv2_tiny_seed0_keys.json')))['keys']
    assert len(ck['state_dict']) == len(keys)
    assert ck['meta']['arch']['embed_dims'] == [16, 32, 64, 80]
    assert ck['meta']['with_kd'] is True
    assert 'head.head_kd.weight' in ck['state_dict']
    assert 'backbone.block4.1.mlp.fc2_bn.running_var' in ck['state_dict']


def fake_official(keys_json):
    keys = json.load(open(keys_json))['keys']
    return {k: torch.zeros(shape) for k, shape in keys.items()}


def test_maps_every_key_of_55M(reference_dir):
    sd = fake_official(osp.join(reference_dir, 'sdtv2_55M_kd_keys.json'))
    out = convert_official({'model': sd, 'epoch': 3,
                            'args': argparse.Namespace(kd=True)})
    assert len(out['state_dict']) == len(sd) == 827
    assert out['meta']['arch']['embed_dims'] == [128, 256, 512, 640]
    assert out['meta']['num_classes'] == 1000


def test_refuses_missing_and_unknown_keys(reference_dir):
    sd = fake_official(osp.join(reference_dir, 'sdtv2_tiny_seed0_keys.json'))
    sd.pop('block3.2.attn.v_conv.1.weight')
    sd['block3.0.attn.extra.weight'] = torch.zeros(1)
    with pytest.raises(ValueError) as e:
        convert_official({'model': sd})
    assert 'block3.2.attn.v_conv.1.weight' in str(e.value)
    assert 'block3.0.attn.extra.weight' in str(e.value)


def test_refuses_non_sdt_file(tmp_path):
    bad = tmp_path / 'resnet.pth'
    torch.save({'model': {'conv1.weight': torch.zeros(1)}}, bad)
    r = run_py('tools/model_converters/sdtv2_to_mm.py', str(bad),
               str(tmp_path / 'o.pth'), check=False)
    assert r.returncode != 0
    assert 'not a Spike-driven Transformer V2 checkpoint' in r.stderr
    assert not (tmp_path / 'o.pth').exists()
    txt = tmp_path / 'notes.pth'
    txt.write_text('hello')
    r = run_py('tools/model_converters/sdtv2_to_mm.py', str(txt),
               str(tmp_path / 'o.pth'), check=False)
    assert r.returncode != 0 and 'notes.pth' in r.stderr
    assert 'Traceback' not in r.stderr


def test_default_loader_refuses_official_checkpoint(reference_dir):
    path = osp.join(reference_dir, 'sdtv2_tiny_seed0_official.pth')
    with pytest.raises(UnsafeCheckpointError, match='sdtv2_to_mm.py'):
        load_checkpoint_file(path)


class Evil:

    def __reduce__(self):
        return (print, ('owned', ))


def test_default_loader_refuses_malicious_pickle(tmp_path):
    p = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Evil()}, p)
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        load_checkpoint_file(p)


def test_missing_checkpoint_error_says_how_to_make_it(tmp_path, run_py,
                                                     monkeypatch):
    """A config's checkpoint that is not there yet: the loader's error names
    it; the tools add the command that makes it (a training run, the demo,
    or the paper's conversion), which the loader itself does not know.
    Run from an empty folder: what `make demo` (or a download) left in the
    checkout must not change the result."""
    from helpers import ROOT

    from spikeformer_mm.cli import with_hint
    monkeypatch.chdir(tmp_path)

    def message(path):
        with pytest.raises(FileNotFoundError) as e:
            load_checkpoint_file(path)
        assert str(e.value) == f'checkpoint not found: {path}'
        return with_hint(e.value)
    msg = message('checkpoints/metaspikeformer-55m-kd_in1k-t1.pth')
    assert 'sdtv2_to_mm.py 55M_kd.pth' in msg
    msg = message('work_dirs/metaspikeformer-31m_8xb64_in1k/epoch_200.pth')
    assert ('python tools/train.py configs/classification/'
            'metaspikeformer-31m_8xb64_in1k.py') in msg
    msg = message('work_dirs/demo/classification/epoch_12.pth')
    assert 'python tools/run_demos.py --tasks classification' in msg
    # nothing known: no hint
    assert message(tmp_path / 'other.pth') == \
        f'checkpoint not found: {tmp_path / "other.pth"}'
    # through a tool: one line with the hint
    r = run_py(f'{ROOT}/tools/test.py', f'{ROOT}/configs/classification/'
               'metaspikeformer-55m-kd_8xb64_in1k.py',
               'checkpoints/metaspikeformer-55m-kd_in1k-t1.pth', check=False,
               cwd=str(tmp_path))
    assert r.returncode == 1
    assert 'error: checkpoint not found: checkpoints/metaspikeformer-55m' \
        in r.stderr and 'sdtv2_to_mm.py' in r.stderr
