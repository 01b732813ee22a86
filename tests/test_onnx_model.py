import numpy as np
import pytest
import torch
from torch import nn

from fervision import onnx_model
from fervision.errors import FervisionError
from fervision.onnx_model import cpu_runtime
from fervision.recognizer import ExpressionRecognizer, list_checkpoints


@pytest.mark.parametrize("name", list_checkpoints())
def test_every_shipped_checkpoint_reads_the_same_on_onnxruntime_and_torch(name):
    rng = np.random.default_rng(1)
    faces = [rng.integers(0, 256, (rng.integers(20, 90), rng.integers(20, 90), 3), dtype=np.uint8) for _ in range(5)]
    onnx = ExpressionRecognizer.from_checkpoint(name, device="cpu")
    plain = ExpressionRecognizer.from_checkpoint(name, device="cpu", runtime="torch")
    assert (onnx.runtime, plain.runtime) == ("onnxruntime", "torch")
    assert np.allclose(onnx.predict(faces), plain.predict(faces), atol=1e-4)
    assert np.allclose(onnx.predict(faces[:1]), plain.predict(faces[:1]), atol=1e-4)  # any batch size


class _Untraceable(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_tracing():
            raise RuntimeError("an operator the exporter lacks")
        return x.mean(dim=(2, 3))


def test_the_runtime_falls_back_to_torch_where_onnx_cannot_run_it(monkeypatch):
    model = _Untraceable()
    with pytest.warns(RuntimeWarning, match="running the recogniser on torch: its export to ONNX Runtime failed"):
        assert cpu_runtime(model, 1, 8) is None
    with pytest.raises(FervisionError, match="could not be exported to ONNX Runtime"):
        cpu_runtime(model, 1, 8, runtime="onnxruntime")
    assert cpu_runtime(nn.Flatten(), 1, 8, runtime="torch") is None
    assert cpu_runtime(nn.Flatten(), 1, 8, device=torch.device("cuda")) is None  # a GPU keeps torch (not touched)
    with pytest.raises(FervisionError, match="runs on auto, onnxruntime, torch, not 'tvm'"):
        cpu_runtime(nn.Flatten(), 1, 8, runtime="tvm")  # type: ignore[arg-type]
    monkeypatch.setattr(onnx_model, "onnx_export_available", lambda: False)
    assert cpu_runtime(nn.Flatten(), 1, 8) is None
    with pytest.raises(FervisionError, match="needs the onnx and onnxruntime packages"):
        cpu_runtime(nn.Flatten(), 1, 8, runtime="onnxruntime")


def test_the_onnx_copy_leaves_the_torch_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(1), nn.LazyLinear(3))
    model(torch.zeros(2, 1, 8, 8))
    model.train()
    copy = cpu_runtime(model, 1, 8)
    assert copy is not None and model.training  # exported in eval mode, handed back in train mode
    x = torch.randn(3, 1, 8, 8)
    model.eval()
    with torch.inference_mode():
        assert torch.allclose(copy(x), model(x), atol=1e-5)
