"""OpenVINO on the CPU as an export target."""


def session(path: str, dtype: str, threads: int):
    """``run(x)``: one batch (a numpy array) through ``path`` in OpenVINO,
    at its bf16 inference precision for ``dtype='bf16'`` (int8: OpenVINO
    runs the quantized convs in int8, the rest in f32)."""
    import openvino as ov
    compiled = ov.Core().compile_model(path, 'CPU', {
        'INFERENCE_PRECISION_HINT': 'bf16' if dtype == 'bf16' else 'f32',
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_NUM_THREADS': threads})
    req = compiled.create_infer_request()
    return lambda x: req.infer({0: x})
