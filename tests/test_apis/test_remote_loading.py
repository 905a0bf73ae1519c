"""The package's loading functions use the safe loaders whatever the caller
imported: code that imports only ``spikeformer_mm`` and loads an http(s)
checkpoint once got mmengine's own loader, which keeps a download by its
file name (so a second URL whose file has the same name got the first
one's weights) and unpickles anything."""

import torch

from helpers import run_py

SCRIPT = '''
import sys
import torch
import spikeformer_mm
from spikeformer_mm.apis.inference import load_model_weights
from spikeformer_mm.models import MetaSpikeFormer
assert 'spikeformer_mm.engine.safe_io' not in sys.modules
model = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 128]), T=1)
url = sys.argv[1]
load_model_weights(model, url + '/a/w.pth')
first = next(iter(model.state_dict().values())).clone()
load_model_weights(model, url + '/b/w.pth')
second = next(iter(model.state_dict().values())).clone()
print('A', float(first.flatten()[0]), 'B', float(second.flatten()[0]))
# and mmengine's own entry point now reads URLs through the verified loader
from mmengine.runner.checkpoint import CheckpointLoader
print('LOADER', CheckpointLoader._get_checkpoint_loader(url).__name__)
'''


def test_urls_of_one_file_name_load_their_own_weights(tmp_path, http_server):
    from spikeformer_mm.models import MetaSpikeFormer
    sd = MetaSpikeFormer(arch=dict(embed_dims=[16, 32, 64, 128]), T=1).state_dict()
    for sub, value in (('a', 1.0), ('b', 2.0)):
        (http_server.root / sub).mkdir()
        torch.save({'state_dict': {k: torch.full_like(v, value)
                                   if v.is_floating_point() else v
                                   for k, v in sd.items()}},
                   http_server.root / sub / 'w.pth')
    script = tmp_path / 'load.py'
    script.write_text(SCRIPT)
    r = run_py(script, http_server.url, env={'TORCH_HOME': str(
        tmp_path / 'torch_home')})
    assert 'A 1.0 B 2.0' in r.stdout, r.stdout + r.stderr
    assert 'LOADER load_from_http_verified' in r.stdout, r.stdout
