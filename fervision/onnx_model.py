"""A recogniser's network run by ONNX Runtime on a CPU, exported from the torch model just loaded.

On 2 CPU cores ONNX Runtime runs the shipped networks 1.5-3x faster than torch's eager mode
(20 faces: 29 vs 53 ms for efficientnet_lite0_ferplus; one face: 3.5 vs 11 ms), with the same
outputs to ~1e-6. The network is exported in memory from the torch module that was loaded from
its safetensors checkpoint, so weights still come only through safetensors with validated
metadata: no ONNX file is read or written. Exporting takes 0.6-1.6 s a model.

On a GPU torch stays (half precision, channels-last); ONNX Runtime is used on the CPU only.
"""

from __future__ import annotations

import io
import warnings
from typing import Literal

import numpy as np
import torch
from torch import nn

from .core.onnx_runtime import cpu_session, onnxruntime_available
from .errors import FervisionError

Runtime = Literal["auto", "onnxruntime", "torch"]
RUNTIMES: tuple[Runtime, ...] = ("auto", "onnxruntime", "torch")
OPSET = 17


class OnnxRuntimeModel:
    """Called as the torch model is: a float tensor ``[N, C, S, S]`` in, logits ``[N, K]`` out."""

    def __init__(self, model: nn.Module, in_chans: int, input_size: int, threads: int | None = None) -> None:
        was_training = model.training
        model.eval()
        example = torch.zeros(2, in_chans, input_size, input_size)
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings():  # the exporter's notes on tracing are for model authors
                warnings.simplefilter("ignore")
                # (a file-like target works on the TorchScript exporter; the stubs name only paths)
                torch.onnx.export(model, (example,), buffer,  # type: ignore[arg-type]
                                  input_names=["faces"], output_names=["logits"],
                                  dynamic_axes={"faces": {0: "n"}, "logits": {0: "n"}}, opset_version=OPSET,
                                  dynamo=False)
        finally:
            model.train(was_training)
        self._session = cpu_session(buffer.getvalue(), threads or torch.get_num_threads())

    def __call__(self, faces: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(faces.detach().cpu().numpy(), dtype=np.float32)
        (logits,) = self._session.run(["logits"], {"faces": array})
        return torch.from_numpy(logits)


def onnx_export_available() -> bool:
    """Whether torch's exporter (it needs ``onnx``) and ONNX Runtime are both installed."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return onnxruntime_available()


def cpu_runtime(model: nn.Module, in_chans: int, input_size: int, runtime: Runtime = "auto",
                device: torch.device | None = None) -> OnnxRuntimeModel | None:
    """The ONNX Runtime copy of ``model`` to run on the CPU, or None to run ``model`` itself:
    always on a GPU and for ``runtime='torch'``; with ``auto`` also where the exporter or ONNX
    Runtime is missing or the export fails (``onnxruntime`` makes those an error)."""
    if runtime not in RUNTIMES:
        raise FervisionError(f"The recogniser runs on {', '.join(RUNTIMES)}, not {runtime!r}.")
    if runtime == "torch" or (device is not None and device.type != "cpu"):
        return None
    if not onnx_export_available():
        if runtime == "auto":
            return None
        raise FervisionError("The recogniser's onnxruntime runtime needs the onnx and onnxruntime packages.")
    try:
        return OnnxRuntimeModel(model, in_chans, input_size)
    except Exception as exc:  # an operator the exporter or ONNX Runtime lacks: torch still runs it
        if runtime == "auto":
            warnings.warn(f"running the recogniser on torch: its export to ONNX Runtime failed ({exc})",
                          RuntimeWarning, stacklevel=2)
            return None
        raise FervisionError(f"The recogniser could not be exported to ONNX Runtime ({exc}).") from None
