"""A timm-style model registry: every model is a small named entry whose config carries
what a user needs to know about it (input size, normalisation, licence, paper figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelConfig:
    """Static facts about a registered model family.

    ``paper`` holds the figures the source paper reports (params in millions, FLOPs as
    the paper prints them, accuracies in percent) so that tools can print ours beside them.
    """

    name: str
    description: str
    input_size: int = 224
    mean: tuple[float, ...] = (0.5,)
    std: tuple[float, ...] = (0.25,)
    licence: str = "Apache-2.0"
    source: str = ""
    paper: dict[str, Any] = field(default_factory=dict)
    default_options: dict[str, Any] = field(default_factory=dict)
    cpu_channels_last: bool = False  # measured faster on CPU in NHWC layout (see `fervision eval --bench`)


_REGISTRY: dict[str, tuple[Builder, ModelConfig]] = {}


def register_model(config: ModelConfig) -> Callable[[Builder], Builder]:
    """Decorator that registers ``builder(num_classes, in_chans, **options)`` under ``config.name``."""

    def wrap(builder: Builder) -> Builder:
        if config.name in _REGISTRY:
            raise ValueError(f"model {config.name!r} is registered twice")
        _REGISTRY[config.name] = (builder, config)
        return builder

    return wrap


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return sorted(_REGISTRY)


def get_model_config(name: str) -> ModelConfig:
    """The registered config of ``name``; a clear ``KeyError`` for unknown names."""
    try:
        return _REGISTRY[name][1]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(list_models())}") from None


def create_model(name: str, num_classes: int = 8, in_chans: int = 3, **options: Any) -> nn.Module:
    """Build a registered model with a fresh head of ``num_classes`` outputs.

    ``options`` override the entry's default options (e.g. ``csa_placement="stages"``);
    unknown options raise ``TypeError`` from the builder.
    """
    get_model_config(name)
    builder, config = _REGISTRY[name]
    merged = {**config.default_options, **options}
    model = builder(num_classes=num_classes, in_chans=in_chans, **merged)
    # plain attributes, stored where nn.Module stores any value that is not a tensor or a module
    # (its typing knows only those); read them back with model_config() and model_options()
    vars(model).update(fervision_config=config, fervision_options=merged)
    return model


def model_config(model: nn.Module) -> ModelConfig:
    """The registry entry ``model`` was built from by :func:`create_model`."""
    config: ModelConfig = vars(model)["fervision_config"]
    return config


def model_options(model: nn.Module) -> dict[str, Any]:
    """The options (defaults merged with the caller's) :func:`create_model` built ``model`` with, as a new dict."""
    return dict(vars(model)["fervision_options"])
