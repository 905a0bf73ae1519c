"""ONNX export of deployed models, checked in onnxruntime, and the
benchmark's onnxruntime / OpenVINO engines."""
import os.path as osp

import pytest
import torch

from helpers import ROOT, run_py

# every test here exports a model and runs it in an engine
pytestmark = pytest.mark.e2e

CLS_CFG = osp.join(ROOT,
                   'configs/classification/metaspikeformer-demo_1xb32_digits-t2.py')
DET_CFG = 'configs/detection/mask-rcnn_metaspikeformer-demo_spikefpn_digits-t2.py'


def graph_ops(path):
    import onnx
    g = onnx.load(path).graph
    return [(n.domain, n.op_type) for n in g.node]


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    from spikeformer_mm.apis.export import export_and_check
    d = tmp_path_factory.mktemp('onnx')
    res = {}
    for T in (1, 2):  # T=2 without onnxscript's rewrites (--no-optimize)
        res[T] = export_and_check(
            CLS_CFG, None, str(d / f't{T}.onnx'), T=T, img_size=(32, 32),
            dynamic_batch=T == 2, num_images=8, random_images=True,
            optimize=T == 1)
    return res


def test_no_optimize_skips_the_rewrites_only(monkeypatch, tmp_path):
    """optimize=False: torch's exporter is told not to optimize, then the
    constants are still folded and unused nodes dropped (that such a graph
    agrees with PyTorch: the T=2 export of ``exported``). The exporter is
    replaced by a recorder here: what is checked is what it is asked."""
    import onnxscript.optimizer
    from spikeformer_mm.apis import init_model
    from spikeformer_mm.deploy import export_onnx
    calls = []

    class Program:
        model = 'the graph'

        def save(self, path, external_data):
            open(path, 'wb').close()

    def export(*a, **kw):
        calls.append(('export', kw['optimize']))
        return Program()
    monkeypatch.setattr(torch.onnx, 'export', export)
    for name in ('fold_constants', 'remove_unused_nodes'):
        monkeypatch.setattr(onnxscript.optimizer, name,
                            lambda m, _n=name: calls.append((_n, m)))
    model = init_model(CLS_CFG, None, deploy=True,
                       cfg_options={'model.backbone.T': 1})
    export_onnx(model, str(tmp_path / 'a.onnx'), (32, 32), optimize=False)
    assert calls == [('export', False), ('fold_constants', 'the graph'),
                     ('remove_unused_nodes', 'the graph')]
    calls.clear()
    export_onnx(model, str(tmp_path / 'b.onnx'), (32, 32))
    assert calls == [('export', True)]


def test_classifier_export_agrees_with_pytorch(exported):
    for T, res in exported.items():
        assert res['T'] == T and res['task'] == 'classification'
        assert res['images'] == 8
        assert res['top1_agreement'] == 1.0
        assert res['max_abs_diff'] < 1e-4


def test_neurons_are_unrolled_plain_ops(exported):
    """Standard ONNX ops only (no custom domain, no loop), and each neuron
    contributes one threshold comparison per time step: twice as many at
    T=2 as at T=1."""
    ops = {T: graph_ops(r['onnx']) for T, r in exported.items()}
    for T, o in ops.items():
        assert all(dom in ('', 'ai.onnx') for dom, _ in o), T
        assert not any(op in ('Loop', 'Scan', 'If') for _, op in o), T
    fires = {T: sum(op == 'GreaterOrEqual' for _, op in o)
             for T, o in ops.items()}
    assert fires[1] > 10 and fires[2] == 2 * fires[1]


def test_dynamic_batch_runs_any_batch(exported):
    import onnxruntime as ort
    sess = ort.InferenceSession(exported[2]['onnx'],
                                providers=['CPUExecutionProvider'])
    for b in (1, 3):
        x = torch.randn(b, 3, 32, 32).numpy()
        (out, ) = sess.run(None, {sess.get_inputs()[0].name: x})
        assert out.shape == (b, 10)


def test_the_checker_sees_other_weights(exported):
    from spikeformer_mm.apis import init_model
    from spikeformer_mm.deploy import check_onnx
    torch.manual_seed(123)  # not the exported model's weights
    model = init_model(CLS_CFG, None, deploy=True,
                       cfg_options={'model.backbone.T': 2})
    res = check_onnx(exported[2]['onnx'], model, [torch.randn(4, 3, 32, 32)])
    assert res['max_abs_diff'] > 1e-3


def test_a_mismatch_is_an_error(tmp_path):
    from spikeformer_mm.apis.export import export_and_check
    out = tmp_path / 'm.onnx'
    with pytest.raises(ValueError, match='kept for inspection'):
        export_and_check(CLS_CFG, None, str(out), T=1, img_size=(32, 32),
                         num_images=4, random_images=True,
                         min_agreement=1.01)
    assert out.exists()


def test_export_tool_on_the_spiking_detector(tmp_path):
    """Backbone + spiking FPN of the detector (features averaged over T at
    the output), checked on random images through the command line."""
    out = tmp_path / 'det.onnx'
    r = run_py('tools/deployment/export_onnx.py', DET_CFG, 'none', str(out),
               '--random', '--img-size', '64', '64', '--num-images', '4',
               '--no-optimize', '--cfg-options',
               'model.backbone.init_cfg=None')
    assert 'onnxruntime vs PyTorch on 4 images' in r.stdout
    import onnx
    outs = onnx.load(str(out)).graph.output
    assert [o.name for o in outs] == [f'feat{i}' for i in range(5)]
    r = run_py('tools/deployment/export_onnx.py', DET_CFG, 'none',
               str(tmp_path / 'x.onnx'), '--num-images', '0', check=False)
    assert r.returncode != 0 and '--num-images' in r.stderr


def test_int8_export_quantizes_synapses_only(tmp_path):
    """--int8: the classifier's convs and matrix products take quantized
    inputs (DequantizeLinear feeds them), the neurons' comparisons do not;
    it is checked on images other than the calibration ones; detection is
    refused (it has no top-1 to agree on)."""
    import onnx
    from spikeformer_mm.deploy import INT8_OPS
    out, q = tmp_path / 'c.onnx', tmp_path / 'c-int8.onnx'
    r = run_py('tools/deployment/export_onnx.py', CLS_CFG, 'none', str(out),
               '--random', '--img-size', '32', '32', '--num-images', '8',
               '--int8', str(q), '--calib-images', '8',
               '--min-int8-agreement', '0', '--no-optimize')
    assert 'int8 (calibrated on 8 other images)' in r.stdout
    assert 'on 8 images: top-1 agreement' in r.stdout
    g = onnx.load(str(q)).graph
    made_by = {o: n.op_type for n in g.node for o in n.output}
    synapses = [n for n in g.node if n.op_type in INT8_OPS]
    assert synapses and all(made_by.get(n.input[0]) == 'DequantizeLinear'
                            for n in synapses)
    fires = [n for n in g.node if n.op_type == 'GreaterOrEqual']
    assert fires and not any(made_by.get(i) == 'DequantizeLinear'
                             for n in fires for i in n.input)
    assert osp.getsize(q) < 0.6 * osp.getsize(out)  # int8 weights
    from spikeformer_mm.apis.export import export_and_check
    with pytest.raises(ValueError, match='classifiers only'):
        export_and_check(DET_CFG, None, str(tmp_path / 'd.onnx'),
                         random_images=True, int8=str(tmp_path / 'd8.onnx'))
    assert not (tmp_path / 'd.onnx').exists()
    with pytest.raises(ValueError, match='the same file as OUT'):
        export_and_check(CLS_CFG, None, str(out), int8=str(out))
    with pytest.raises(ValueError, match='--calib-images must be >= 1'):
        export_and_check(CLS_CFG, None, str(out), int8=str(q),
                         calib_images=0)
    with pytest.raises(ValueError, match='too few calibration images'):
        export_and_check(CLS_CFG, None, str(tmp_path / 'e.onnx'),
                         random_images=True, img_size=(32, 32),
                         num_images=8, int8=str(tmp_path / 'e8.onnx'),
                         calib_images=3, min_agreement=0)


@pytest.mark.parametrize('engine', ['onnxruntime', 'openvino'])
def test_benchmark_engines(engine):
    from spikeformer_mm.analysis.benchmark import run_benchmark
    res = run_benchmark(dict(embed_dims=[8, 16, 32, 64], depths=(1, 1)),
                        T=2, batch=2, img_size=32, engine=engine, warmup=1,
                        repeats=2)
    assert res['engine'] == engine and res['img_per_s'] > 0
    res = run_benchmark(dict(embed_dims=[8, 16, 32, 64], depths=(1, 1)),
                        T=1, batch=2, img_size=32, engine=engine, warmup=0,
                        repeats=1, dtype='int8')
    assert res['dtype'] == 'int8' and res['img_per_s'] > 0
    with pytest.raises(ValueError, match='int8 runs in an engine'):
        run_benchmark('15M', dtype='int8')
    assert res['peak_rss_mb'] > 100 and res['peak_mem_mb'] is None
    with pytest.raises(ValueError, match='inference only'):
        run_benchmark('15M', mode='train', engine=engine)


def test_missing_deploy_packages_are_named():
    from spikeformer_mm.deploy import require_deploy_packages
    with pytest.raises(ImportError, match='no_such_pkg.*requirements/deploy'):
        require_deploy_packages('onnx', 'no_such_pkg')
