"""spikeformer_mm: Meta-SpikeFormer (Spike-driven Transformer V2) on OpenMMLab.

Version pins live in ``requirements/*.txt`` (read here and by
``tools/setup_env.sh``). torch is deliberately not required: users who bring
their own (CUDA) build of torch install with ``pip install -e .`` and keep it.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))


def get_version():
    ns = {}
    with open(osp.join(ROOT, 'spikeformer_mm', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


def requirements(name):
    """The requirement lines of requirements/<name>.txt."""
    with open(osp.join(ROOT, 'requirements', f'{name}.txt')) as f:
        lines = (ln.split('#', 1)[0].strip() for ln in f)
        return [ln for ln in lines if ln]


class BuildWithConfigs(build_py):
    """Ship ``configs/`` inside the package (``spikeformer_mm/.mim/configs``,
    where mmpretrain keeps its own), so that ``spikeformer_mm.apis.
    get_config(NAME)`` and the zoo's metafiles find them in any install: a
    copy in a built wheel, a link to the checkout's ``configs/`` in an
    editable install (as mmdet's ``setup.py`` does in develop mode)."""

    def run(self):
        super().run()
        src = osp.join(ROOT, 'configs')
        if getattr(self, 'editable_mode', False):
            link = osp.join(ROOT, 'spikeformer_mm', '.mim', 'configs')
            os.makedirs(osp.dirname(link), exist_ok=True)
            if not osp.lexists(link):
                os.symlink(osp.join('..', '..', 'configs'), link)
            return
        dst = osp.join(self.build_lib, 'spikeformer_mm', '.mim', 'configs')
        if osp.isdir(src):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))


setup(
    name='spikeformer_mm',
    version=get_version(),
    description='Spike-driven Transformer V2 (Meta-SpikeFormer) as an '
    'OpenMMLab toolbox: classification, detection, segmentation',
    long_description=open(osp.join(ROOT, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'tools', 'configs',
                                    'projects', 'projects.*')),
    package_data={'spikeformer_mm': ['zoo/*.yml', 'zoo/metafiles/*.yml']},
    cmdclass={'build_py': BuildWithConfigs},
    python_requires='>=3.10',
    install_requires=requirements('runtime'),
    extras_require={
        # the OpenMMLab stack and spikingjelly at the pinned versions (mmcv
        # needs its compiled ops: tools/setup_env.sh builds it from source)
        'all': requirements('mmcv') + requirements('openmmlab') +
        requirements('events') + requirements('deploy'),
        'tests': requirements('tests'),
        # projects/event_digits
        'events': requirements('events'),
        # ONNX export and the onnxruntime / OpenVINO engines
        'deploy': requirements('deploy'),
        # the browser demo (projects/gradio_demo)
        'demo': requirements('demo'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)
