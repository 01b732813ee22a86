"""Training and evaluation of expression models (``fervision train`` / ``fervision eval``)."""

from .evaluate import evaluate_checkpoint, evaluate_model
from .trainer import TrainConfig, train

__all__ = ["TrainConfig", "evaluate_checkpoint", "evaluate_model", "train"]
