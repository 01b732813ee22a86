"""ONNX Runtime on the CPU, as fervision runs it (the face detector and the recogniser).

Here, below everything, and free of torch: the detector needs it in processes that never load torch
(``fervision --help`` imports the detector registry)."""

from __future__ import annotations

from typing import Any


def cpu_session(model: str | bytes, threads: int) -> Any:
    """An ONNX Runtime session on the CPU for a model file or its bytes, ``threads`` intra-op threads
    that sleep when idle rather than spin: on a 2-core laptop a spinning thread takes the core that
    decoding, detection, the recogniser or the encoder needs next."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(threads, 1)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
