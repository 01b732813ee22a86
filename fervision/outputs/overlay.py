"""Overlay drawing with OpenCV: a box per face in its emotion's colour, its id (and name) and each
signal's overlay text (``happiness 87%`` for the expression)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import cv2
import numpy as np

from ..core.frame import FaceFrame
from ..core.signal_format import SignalFormat
from ..labels import colour_bgr
from .record import student_label


@lru_cache(maxsize=2048)
def _label_patch(text: str, colour: tuple[int, int, int], scale: float, thickness: int) -> np.ndarray:
    """The label as a small opaque image (black anti-aliased text on the emotion's colour).

    Rendering text is the costly part of drawing (~0.2 ms a label); labels repeat from frame
    to frame, so each distinct one is rendered once and then copied into place.
    """
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    patch = np.empty((th + base + 4, tw + 4, 3), np.uint8)
    patch[:] = colour
    cv2.putText(patch, text, (2, th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    patch.flags.writeable = False
    return patch


def _paste(out: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Copy ``patch`` with its top-left at (x, y), clipped to the image."""
    h, w = out.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + patch.shape[1], w), min(y + patch.shape[0], h)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = patch[y0 - y: y1 - y, x0 - x: x1 - x]


def draw_faces(image_bgr: np.ndarray, frame: FaceFrame, signals: Sequence[SignalFormat] = (), blur: bool = False,
               names: Mapping[int, str] | None = None, highlight: int | None = None) -> np.ndarray:
    """A copy of ``image_bgr`` with every face boxed and labelled (optionally blurred first).

    Each of ``signals`` (the pipeline's) adds its overlay text after the id; ``names`` maps
    student ids to names shown beside the id; the ``highlight`` student gets a white outer
    frame so a user can find them in a crowded class.
    """
    out = image_bgr.copy()
    emotions = frame.emotions()
    thickness = max(1, round(min(out.shape[:2]) / 400))
    scale = 0.4 + 0.15 * thickness
    for i, (x1, y1, x2, y2) in enumerate(frame.xyxy.astype(int)):
        if blur and x2 > x1 and y2 > y1:
            roi = out[max(y1, 0):y2, max(x1, 0):x2]
            if roi.size:
                k = max(3, (min(roi.shape[:2]) // 4) | 1)
                out[max(y1, 0):y2, max(x1, 0):x2] = cv2.GaussianBlur(roi, (k, k), 0)
        emotion = emotions[i] if emotions else ""
        colour = colour_bgr(emotion) if emotion else (255, 255, 255)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness + 1)
        sid = int(frame.student_ids[i]) if frame.student_ids is not None else -1
        if highlight is not None and sid == highlight:
            pad = 2 * thickness + 2
            cv2.rectangle(out, (x1 - pad, y1 - pad), (x2 + pad, y2 + pad), (255, 255, 255), thickness + 1)
        parts = []
        if sid > 0:  # unconfirmed faces (-1) have no id yet
            parts.append(student_label(sid, (names or {}).get(sid)))
        parts += [text for signal in signals if (text := signal.overlay_text(frame, i))]
        if parts:
            patch = _label_patch(" ".join(parts), tuple(int(c) for c in colour), scale, thickness)
            _paste(out, patch, x1, max(0, y1 - patch.shape[0]))
    return out
