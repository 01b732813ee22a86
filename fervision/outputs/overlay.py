"""Overlay drawing with OpenCV (box, id, emotion and confidence in the emotion's colour)."""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ..engine.frame import FaceFrame
from ..labels import colour_bgr


def draw_faces(image_bgr: np.ndarray, frame: FaceFrame, blur: bool = False, names: Mapping[int, str] | None = None,
               highlight: int | None = None) -> np.ndarray:
    """A copy of ``image_bgr`` with every face boxed and labelled (optionally blurred first).

    ``names`` maps student ids to names shown beside the id; the ``highlight`` student gets
    a white outer frame so a user can find them in a crowded class.
    """
    out = image_bgr.copy()
    emotions = frame.emotions()
    thickness = max(1, round(min(out.shape[:2]) / 400))
    for i, (x1, y1, x2, y2) in enumerate(frame.xyxy.astype(int)):
        if blur and x2 > x1 and y2 > y1:
            roi = out[y1:y2, x1:x2]
            k = max(3, (min(roi.shape[:2]) // 4) | 1)
            out[y1:y2, x1:x2] = cv2.GaussianBlur(roi, (k, k), 0)
        emotion = emotions[i] if emotions else ""
        colour = colour_bgr(emotion) if emotion else (255, 255, 255)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness + 1)
        sid = int(frame.student_ids[i]) if frame.student_ids is not None else -1
        if highlight is not None and sid == highlight:
            pad = 2 * thickness + 2
            cv2.rectangle(out, (x1 - pad, y1 - pad), (x2 + pad, y2 + pad), (255, 255, 255), thickness + 1)
        parts = []
        if sid > 0:  # unconfirmed faces (-1) have no id yet
            name = (names or {}).get(sid)
            parts.append(f"#{sid} {name}" if name else f"#{sid}")
        if emotion:
            parts.append(f"{emotion} {frame.probs[i].max():.0%}")
        if parts:
            text = " ".join(parts)
            scale = 0.4 + 0.15 * thickness
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
            top = max(0, y1 - th - base - 4)
            cv2.rectangle(out, (x1, top), (x1 + tw + 4, top + th + base + 4), colour, -1)
            cv2.putText(out, text, (x1 + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness,
                        cv2.LINE_AA)
    return out
