"""Batched forward passes from uint8 face tensors to class probabilities.

Shared by the recogniser (faces from video) and evaluation (faces from datasets), so both
apply exactly the checkpoint's preprocessing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .checkpoint import Preprocessing
from .data.augmentation import preprocess
from .errors import FervisionError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise FervisionError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise FervisionError(f"device {device!r} was asked for, but no CUDA GPU is available; "
                             "use --device cpu or auto.")
    return dev


def use_channels_last(model: nn.Module | Callable[[torch.Tensor], torch.Tensor], device: torch.device) -> bool:
    """NHWC on CUDA always; on CPU only for models whose config says it was measured faster."""
    if not isinstance(model, nn.Module):
        return False
    if device.type == "cuda":
        return True
    config = getattr(model, "fervision_config", None)
    return bool(config is not None and config.cpu_channels_last)


def predict_tensor(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    pre: Preprocessing,
    device: torch.device,
    batch_size: int = 256,
    tta_flip: bool = False,
) -> np.ndarray:
    """Softmax probabilities ``float32 [N, K]`` for uint8 faces ``[N, C, H, W]`` (``model`` must be in eval mode;
    or any callable from a float batch to logits, such as :class:`~fervision.onnx_model.OnnxRuntimeModel`).

    On CUDA the forward pass runs in half precision (autocast); ``tta_flip`` averages the
    prediction with that of the mirrored face.
    """
    channels_last = use_channels_last(model, device)
    if channels_last and isinstance(model, nn.Module) and not getattr(model, "_fervision_channels_last", False):
        with torch.no_grad():  # outside inference mode, so the weights stay trainable
            model.to(memory_format=torch.channels_last)
        vars(model)["_fervision_channels_last"] = True  # converting copies every weight: do it once
    return _predict(model, images, pre, device, batch_size, tta_flip, channels_last)


@torch.inference_mode()
def _predict(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    pre: Preprocessing,
    device: torch.device,
    batch_size: int,
    tta_flip: bool,
    channels_last: bool,
) -> np.ndarray:
    out = []
    autocast = (
        torch.autocast("cuda", dtype=torch.float16) if device.type == "cuda" else contextlib.nullcontext()
    )
    for start in range(0, len(images), batch_size):
        x = preprocess(images[start : start + batch_size].to(device), pre.input_size, pre.in_chans, pre.mean, pre.std)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast:
            p = torch.softmax(model(x).float(), dim=1)
            if tta_flip:
                p = (p + torch.softmax(model(x.flip(3)).float(), dim=1)) / 2
        out.append(p.cpu())
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return torch.cat(out).numpy().astype(np.float32)
