"""spikeformer_mm: Meta-SpikeFormer (Spike-driven Transformer V2) on OpenMMLab."""
import os.path as osp

from setuptools import find_packages, setup


def get_version():
    ns = {}
    with open(osp.join(osp.dirname(__file__), 'spikeformer_mm', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='spikeformer_mm',
    version=get_version(),
    description='Spike-driven Transformer V2 (Meta-SpikeFormer) as an '
    'OpenMMLab toolbox: classification, detection, segmentation',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tools', 'configs', 'projects')),
    include_package_data=True,
    package_data={'spikeformer_mm': ['zoo/*.yml', 'zoo/metafiles/*.yml']},
    python_requires='>=3.10',
    # torch is deliberately not required here: users who bring their own
    # (CUDA) build of torch install with `pip install -e .` and keep it.
    # The full pinned stack is installed by tools/setup_env.sh (make setup).
    install_requires=[
        'mmengine>=0.10.4,<0.11',
        'numpy',
    ],
    extras_require={
        'all': [
            'mmcv>=2.0.0,<2.2.0', 'mmdet==3.3.0', 'mmsegmentation==1.2.2',
            'mmpretrain==1.2.0', 'spikingjelly==2.0.0', 'ftfy', 'regex',
            'loguru', 'scikit-learn',
        ],
    },
    license='Apache License 2.0',
    zip_safe=False,
)
