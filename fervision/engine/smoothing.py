"""Per-student exponential smoothing of probabilities with a time constant in seconds.

Frames arrive at irregular times (dropped camera frames, variable frame rates), so the
blend weight is ``1 − exp(−Δt / τ)`` rather than a fixed per-frame factor.
"""

from __future__ import annotations

import math

import numpy as np


class ProbabilitySmoother:
    """``update(student_id, probs, time_s)`` returns the smoothed distribution for that student."""

    def __init__(self, tau_s: float = 0.5) -> None:
        if tau_s < 0:
            raise ValueError("tau_s must be >= 0")
        self.tau_s = tau_s
        self._state: dict[int, tuple[np.ndarray, float]] = {}

    def update(self, student_id: int, probs: np.ndarray, time_s: float) -> np.ndarray:
        previous = self._state.get(student_id)
        if previous is None or self.tau_s == 0:
            smoothed = np.asarray(probs, np.float32).copy()
        else:
            p, t = previous
            dt = max(0.0, time_s - t)
            w = 1.0 - math.exp(-dt / self.tau_s)
            smoothed = (p + w * (np.asarray(probs, np.float32) - p)).astype(np.float32)
        self._state[student_id] = (smoothed, time_s)
        return smoothed

    def get(self, student_id: int) -> np.ndarray | None:
        state = self._state.get(student_id)
        return None if state is None else state[0]
