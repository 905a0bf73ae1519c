"""onnxruntime's CPU provider as an export target."""


def session(path: str, dtype: str, threads: int):
    """``run(x)``: one batch (a numpy array) through ``path`` in
    onnxruntime (its graph decides fp32 or int8)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})
