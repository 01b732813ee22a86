"""Model registry and the papers' architectures.

Importing this package registers every model family; use :func:`create_model` and
:func:`list_models` as with timm.
"""

from . import convnext, efficientnet, mobilenet, nca_mobilenet  # noqa: F401  (registration side effects)
from .complexity import count_macs, count_params
from .registry import (
    ModelConfig,
    create_model,
    get_model_config,
    list_models,
    model_config,
    model_options,
    register_model,
)

__all__ = [
    "ModelConfig",
    "count_macs",
    "count_params",
    "create_model",
    "get_model_config",
    "list_models",
    "model_config",
    "model_options",
    "register_model",
]
