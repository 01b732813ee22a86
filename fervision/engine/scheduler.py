"""Which faces to (re)classify in this frame under a CPU budget.

Without a budget every face is classified every frame. With ``max_per_frame = N``, a face
whose label would become older than ``max_age_s`` is always classified (so no label is
ever older than that), plus at most N others, oldest label first (round-robin). N = 0 only
refreshes each label once per ``max_age_s``, in one batch: the cheapest on a CPU, where
one batch of 20 faces costs far less than 20 batches of one (a batch of one costs about
as much as ten more faces in a batch: the weights are read once per batch). So that
students who arrived at different moments do not each keep a batch of their own, a batch
that runs anyway also takes every face whose label is older than ``coalesce`` × ``max_age_s``.
"""

from __future__ import annotations

import numpy as np


class RecognitionScheduler:
    def __init__(self, max_per_frame: int | None = None, max_age_s: float = 1.0, coalesce: float = 0.8) -> None:
        self.max_per_frame = max_per_frame
        self.max_age_s = max_age_s
        self.coalesce = coalesce
        self._last: dict[int, float] = {}
        self._prev_time: float | None = None

    def select(self, student_ids: np.ndarray, time_s: float) -> np.ndarray:
        """Indices into ``student_ids`` to classify now (unconfirmed faces, id −1, always are)."""
        ids = np.asarray(student_ids)
        # A label refreshed now must still be fresh at the next frame, one frame interval away.
        step = 0.0 if self._prev_time is None else max(0.0, time_s - self._prev_time)
        self._prev_time = time_s
        if self.max_per_frame is None:
            chosen = np.arange(len(ids))
        else:
            age = np.array([time_s - self._last.get(int(s), -np.inf) if s > 0 else np.inf for s in ids])
            order = np.argsort(-age, kind="stable")
            late = age + step
            cut = self.max_age_s
            if (late > cut).any():  # a batch runs anyway: faces close to due ride along
                cut *= self.coalesce
            due = [i for i in order if late[i] > cut]
            rest = [i for i in order if late[i] <= cut]
            chosen = np.array(sorted(due + rest[: max(0, self.max_per_frame - len(due))]), dtype=np.int64)
        for i in chosen:
            if ids[i] > 0:
                self._last[int(ids[i])] = time_s
        return chosen

    def adopt(self, student_id: int, read_s: float) -> bool:
        """Count a reading made before the student had an id; False if the student already has one."""
        if student_id in self._last:
            return False
        self._last[student_id] = read_s
        return True
