"""fervision: classroom facial-expression analysis.

The public API is imported lazily (PEP 562), so ``import fervision`` and ``fervision --help``
stay fast and torch loads only when a model does::

    import fervision as fv

    pipeline = fv.build_pipeline(fv.PipelineConfig(device="cpu"))   # detect → track → recognise → smooth
    with fv.open_source("lesson.mp4") as source:
        for frame in source:
            faces = pipeline.process(frame)                           # a FaceFrame: boxes, ids, data
            image = fv.draw_faces(frame.image, faces, pipeline.signals)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import CheckpointError, DataError, FervisionError

if TYPE_CHECKING:
    from .analysis.annotate import annotate
    from .analysis.loop import FrameLoop, run
    from .core.frame import FaceFrame
    from .engine.config import PipelineConfig, build_pipeline
    from .engine.detectors import create_detector, list_detectors
    from .engine.signals import create_signal, list_signals
    from .engine.sources import open_source
    from .models import create_model, list_models
    from .outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink
    from .outputs.face_crops import FaceCropSink
    from .outputs.images import AnnotatedImagesSink
    from .outputs.overlay import draw_faces
    from .outputs.record import LessonRecord
    from .outputs.sink import Sink
    from .outputs.timeline import TimelineSink
    from .outputs.video import AnnotatedVideoSink
    from .recognizer import ExpressionRecognizer

_LAZY = {
    "ExpressionRecognizer": ".recognizer",
    "create_model": ".models",
    "list_models": ".models",
    "create_detector": ".engine.detectors",
    "list_detectors": ".engine.detectors",
    "create_signal": ".engine.signals",
    "list_signals": ".engine.signals",
    "build_pipeline": ".engine.config",
    "PipelineConfig": ".engine.config",
    "open_source": ".engine.sources",
    "FaceFrame": ".core.frame",
    "annotate": ".analysis.annotate",
    "FrameLoop": ".analysis.loop",
    "run": ".analysis.loop",
    "Sink": ".outputs.sink",
    "LessonRecord": ".outputs.record",
    "FacesCsvSink": ".outputs.csv_sinks",
    "StudentsCsvSink": ".outputs.csv_sinks",
    "ClassCsvSink": ".outputs.csv_sinks",
    "AnnotatedVideoSink": ".outputs.video",
    "AnnotatedImagesSink": ".outputs.images",
    "FaceCropSink": ".outputs.face_crops",
    "TimelineSink": ".outputs.timeline",
    "draw_faces": ".outputs.overlay",
}

__all__ = [
    "AnnotatedImagesSink",
    "AnnotatedVideoSink",
    "CheckpointError",
    "ClassCsvSink",
    "DataError",
    "ExpressionRecognizer",
    "FaceCropSink",
    "FaceFrame",
    "FacesCsvSink",
    "FervisionError",
    "FrameLoop",
    "LessonRecord",
    "PipelineConfig",
    "Sink",
    "StudentsCsvSink",
    "TimelineSink",
    "annotate",
    "build_pipeline",
    "create_detector",
    "create_model",
    "create_signal",
    "draw_faces",
    "list_detectors",
    "list_models",
    "list_signals",
    "open_source",
    "run",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fervision' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
