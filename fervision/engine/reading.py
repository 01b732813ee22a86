"""The read stage: every per-face signal, read on the faces the scheduler picks, in one batch.

All signals share one budget (``scheduler.py``): the faces due now are cropped and read by each
signal together, so a second signal (head pose) rides on the expression's batch and cadence.
Faces not read this frame get each signal's "unknown" values here; the smooth stage then gives
confirmed students their last smoothed values.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..core.frame import READ_AT, TRACK_KEY, FaceFrame
from .scheduler import RecognitionScheduler
from .signals import FaceSignal

PENDING_MAX_AGE_S = 10.0
"""A reading kept for a face that never became a student is dropped after this long."""


class ReadStage:
    """Fills every signal's ``data`` keys and ``data["read_s"]``.

    A face read while unconfirmed keeps that reading as the new student's first one (adopted when
    the tracker confirms it), so confirmation does not read the same face again in a batch of one
    (costly on a CPU).
    """

    name = "recognise"

    def __init__(self, signals: list[FaceSignal], scheduler: RecognitionScheduler | None = None) -> None:
        if not signals:
            raise ValueError("the read stage needs at least one signal")
        self.signals = signals
        self.scheduler = scheduler or RecognitionScheduler()
        self.counts: Counter[str] = Counter()
        self._pending: dict[int, tuple[float, dict[str, np.ndarray]]] = {}  # track key -> first reading

    @property
    def labels(self) -> list[str]:
        """The expression labels when an expression signal is read (frames carry them), else none."""
        return list(getattr(self.signals[0], "labels", []))

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        n = len(faces)
        values: dict[str, np.ndarray] = {}
        for signal in self.signals:
            values.update(signal.unknown(n))
        read_at = np.full(n, np.nan)
        faces.labels = self.labels
        if n:
            ids = faces.ids_or_unknown()
            keys = faces.data.get(TRACK_KEY)
            if keys is not None:
                self._adopt_first_readings(ids, keys, values, read_at)
            chosen = self.scheduler.select(ids, faces.time_s)
            if len(chosen):
                fresh: dict[str, np.ndarray] = {}
                for signal in self.signals:
                    fresh.update(signal.read(image_bgr, faces[chosen]))
                self.counts["recognition batches"] += 1
                self.counts["faces read"] += len(chosen)
                for key, rows in fresh.items():
                    values[key][chosen] = rows
                read_at[chosen] = faces.time_s
                if keys is not None:
                    self._keep_unconfirmed_readings(ids[chosen], keys[chosen], fresh, faces.time_s)
        faces.data.update(values)
        faces.data[READ_AT] = read_at
        return faces

    def _keep_unconfirmed_readings(self, ids: np.ndarray, keys: np.ndarray, fresh: dict[str, np.ndarray],
                                   time_s: float) -> None:
        self._pending = {k: v for k, v in self._pending.items() if time_s - v[0] <= PENDING_MAX_AGE_S}
        for row, (sid, key) in enumerate(zip(ids.tolist(), keys.tolist(), strict=True)):
            if sid <= 0:
                self._pending[key] = (time_s, {name: rows[row] for name, rows in fresh.items()})

    def _adopt_first_readings(self, ids: np.ndarray, keys: np.ndarray, values: dict[str, np.ndarray],
                              read_at: np.ndarray) -> None:
        for i, (sid, key) in enumerate(zip(ids.tolist(), keys.tolist(), strict=True)):
            if sid > 0 and key in self._pending:
                read_s, reading = self._pending.pop(key)
                if self.scheduler.adopt(sid, read_s):
                    for name, row in reading.items():
                        values[name][i] = row
                    read_at[i] = read_s

    def reset(self) -> None:
        self.scheduler = RecognitionScheduler(self.scheduler.max_per_frame, self.scheduler.max_age_s,
                                              self.scheduler.coalesce)
        self._pending.clear()
