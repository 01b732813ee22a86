"""fervision: classroom facial-expression analysis.

Public API: :class:`ExpressionRecognizer`, :func:`create_model`, :func:`list_models`.
"""

from .errors import CheckpointError, DataError, FervisionError
from .models import create_model, list_models
from .recognizer import ExpressionRecognizer

__all__ = [
    "CheckpointError",
    "DataError",
    "ExpressionRecognizer",
    "FervisionError",
    "create_model",
    "list_models",
]

__version__ = "0.1.0"
