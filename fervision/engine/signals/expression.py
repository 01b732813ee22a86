"""The expression signal: each face's emotion probabilities from an :class:`ExpressionRecognizer`.

``data["expression"]`` is ``[N, len(labels)]`` in the checkpoint's label order; a face not read
yet gets the uniform distribution. ``faces.csv`` gets ``emotion,confidence,p_<label>…`` and the
overlay ``happiness 87%``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from ...core.boxes import crop_faces
from ...core.frame import EXPRESSION, FaceFrame
from .registry import register_signal

if TYPE_CHECKING:
    from ...recognizer import ExpressionRecognizer


class ExpressionSignal:
    name = "expression"
    keys: tuple[str, ...] = (EXPRESSION,)
    smoothed: tuple[str, ...] = (EXPRESSION,)

    def __init__(self, labels: list[str], recognizer: ExpressionRecognizer | None = None) -> None:
        """Without a ``recognizer`` it only formats (columns, overlay text) and cannot read."""
        self.labels = list(labels)
        self.recognizer = recognizer

    def unknown(self, n: int) -> dict[str, np.ndarray]:
        k = len(self.labels)
        return {EXPRESSION: np.full((n, k), 1.0 / k, np.float32)}

    def read(self, image_bgr: np.ndarray, faces: FaceFrame) -> dict[str, np.ndarray]:
        """Crops cut with the checkpoint's own margin, in RGB, in one batch."""
        if self.recognizer is None:
            raise RuntimeError("this expression signal was built without a recogniser")
        crops = crop_faces(image_bgr, faces.xyxy, self.recognizer.meta.preprocessing.crop_margin)
        return {EXPRESSION: self.recognizer.predict([cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in crops])}

    def columns(self) -> list[str]:
        return ["emotion", "confidence", *[f"p_{label}" for label in self.labels]]

    def cells(self, faces: FaceFrame, i: int) -> list[str]:
        probs = faces.data.get(EXPRESSION)
        if probs is None:
            return [""] * (2 + len(self.labels))
        p = probs[i]
        return [self.labels[int(p.argmax())], f"{p.max():.4f}", *[f"{v:.4f}" for v in p]]

    def overlay_text(self, faces: FaceFrame, i: int) -> str:
        probs = faces.data.get(EXPRESSION)
        if probs is None:
            return ""
        return f"{self.labels[int(probs[i].argmax())]} {probs[i].max():.0%}"


@register_signal("expression")
def expression_signal(recognizer: ExpressionRecognizer, **_: object) -> ExpressionSignal:
    """Factories get every shared resource by keyword (the recogniser, the device) and take what they need."""
    return ExpressionSignal(recognizer.labels, recognizer)
