"""Per-student exponential smoothing of per-face values with a time constant in seconds.

Frames arrive at irregular times (dropped camera frames, variable frame rates), so the
blend weight is ``1 − exp(−Δt / τ)`` rather than a fixed per-frame factor.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..core.frame import READ_AT, FaceFrame


class ProbabilitySmoother:
    """``update(student_id, probs, time_s)`` returns the smoothed distribution for that student."""

    def __init__(self, tau_s: float = 0.5) -> None:
        if tau_s < 0:
            raise ValueError("tau_s must be >= 0")
        self.tau_s = tau_s
        self._state: dict[int, tuple[np.ndarray, float]] = {}

    def update(self, student_id: int, probs: np.ndarray, time_s: float) -> np.ndarray:
        """Blend a new reading in. A value that could not be read (NaN: no landmarks this time)
        leaves the last one as it was; a first value is taken as it is."""
        previous = self._state.get(student_id)
        new = np.asarray(probs, np.float32)
        if previous is None or self.tau_s == 0:
            smoothed = new.copy()
        else:
            p, t = previous
            dt = max(0.0, time_s - t)
            w = 1.0 - math.exp(-dt / self.tau_s)
            p = np.where(np.isnan(p), new, p)
            smoothed = np.where(np.isnan(new), p, p + w * (new - p)).astype(np.float32)
        self._state[student_id] = (smoothed, time_s)
        return smoothed

    def get(self, student_id: int) -> np.ndarray | None:
        state = self._state.get(student_id)
        return None if state is None else state[0]


class SmoothStage:
    """Smooths each signal's ``smoothed`` keys per student over time; a student not read this frame
    shows their last smoothed values. Unconfirmed faces keep their raw reading (no id to keep)."""

    name = "smooth"

    def __init__(self, keys: list[str], tau_s: float = 0.5) -> None:
        self.keys, self.tau_s = keys, tau_s
        self.counts: Counter[str] = Counter()
        self._smoothers = {key: ProbabilitySmoother(tau_s) for key in keys}

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        read_at = faces.data.get(READ_AT)
        if faces.student_ids is None or read_at is None:
            return faces
        for key in self.keys:
            values, smoother = faces.data[key], self._smoothers[key]
            for i, sid in enumerate(faces.student_ids.tolist()):
                if sid <= 0:
                    continue
                if np.isfinite(read_at[i]):
                    values[i] = smoother.update(sid, values[i], float(read_at[i]))
                else:
                    previous = smoother.get(sid)
                    if previous is not None:
                        values[i] = previous
        return faces

    def reset(self) -> None:
        self._smoothers = {key: ProbabilitySmoother(self.tau_s) for key in self.keys}
