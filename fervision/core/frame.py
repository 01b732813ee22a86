"""``FaceFrame``: the faces of one video frame, the one object every stage, sink and overlay reads.

Like supervision's ``Detections``: validated when built, ``len()`` is the number of faces, and
``frame[index | slice | bool mask | index array]`` returns a new frame with *every* per-face
field indexed, ``data`` included. So a stage that drops faces slices once and no field is
ever left behind; a new per-face signal is a new ``data`` key, not a new field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

EXPRESSION = "expression"
"""The ``data`` key of the expression probabilities, ``[N, len(labels)]`` in ``labels`` order."""
TRACK_KEY = "track_key"
"""The ``data`` key the tracker fills: one key per track, confirmed or not (ids only once confirmed)."""
TRAVEL = "travel"
"""The ``data`` key the tracker fills: how far each student has moved through the scene from where
first seen (camera motion taken out when it is followed), the most so far, in face sizes (the larger
of its sqrt(w·h) then and now); NaN for a face not confirmed yet. Students sit; a walker travels."""
READ_AT = "read_s"
"""The ``data`` key of when each face's signals were read (NaN: not read for this frame)."""
HEAD_POSE = "head_pose"
"""``[N, 3]`` yaw, pitch, roll in degrees (``engine/head_pose.py`` for the signs; NaN: unknown)."""
EYES_OPEN = "eyes_open"
"""``[N]`` 0 (closed) to 1 (open); NaN: unknown."""
FACING_FRONT = "facing_front"
"""``[N]`` 1 when the head points at the front of the room, 0 when not, NaN when unknown."""


def _empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


def _empty_scores() -> np.ndarray:
    return np.zeros((0,), np.float32)


@dataclass(eq=False)
class FaceFrame:
    """Faces found in one frame, in the frame's pixel coordinates.

    ``xyxy`` and ``confidence`` come from the detector; ``student_ids`` from the tracker (−1 for
    a face not confirmed yet; ``None`` for faces nobody tracked, such as one photo's); ``data``
    holds per-face signals, one row per face (e.g. ``data["expression"]``, the emotion
    probabilities in ``labels`` order). ``time_s``, ``index``, ``labels`` and ``held`` describe the frame.
    """

    xyxy: np.ndarray = field(default_factory=_empty_boxes)
    confidence: np.ndarray = field(default_factory=_empty_scores)
    time_s: float = 0.0
    index: int = 0
    student_ids: np.ndarray | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    held: bool = False  # the faces of an earlier, analysed frame shown on this one (see ``at``)

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, np.float32).reshape(-1, 4)
        n = len(self.xyxy)
        self.confidence = np.asarray(self.confidence, np.float32).reshape(-1)
        if len(self.confidence) != n:
            raise ValueError(f"confidence has {len(self.confidence)} values for {n} faces")
        if self.student_ids is not None:
            self.student_ids = np.asarray(self.student_ids, np.int64).reshape(-1)
            if len(self.student_ids) != n:
                raise ValueError(f"student_ids has {len(self.student_ids)} values for {n} faces")
        self.data = dict(self.data)
        for key, value in self.data.items():
            self.data[key] = value = np.asarray(value)
            if value.ndim == 0 or len(value) != n:
                raise ValueError(f"data[{key!r}] has {0 if value.ndim == 0 else len(value)} rows for {n} faces")
        self.labels = list(self.labels)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> FaceFrame:
        """A new frame with the chosen faces (an int keeps a one-face frame), every field indexed."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        if not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype != bool:
                index = index.astype(np.int64).reshape(-1)
            elif index.shape != (len(self),):
                raise IndexError(f"a boolean mask needs {len(self)} values, got {index.shape}")
        return replace(
            self,
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            student_ids=None if self.student_ids is None else self.student_ids[index],
            data={key: value[index] for key, value in self.data.items()},
        )

    @classmethod
    def merge(cls, frames: Sequence[FaceFrame]) -> FaceFrame:
        """The faces of ``frames`` in order, in one frame with the first one's time, index and labels.

        Every frame must carry the same ``data`` keys; ids missing from some frames become −1."""
        if not frames:
            return cls()
        keys = set(frames[0].data)
        for f in frames[1:]:
            if set(f.data) != keys:
                raise ValueError(f"cannot merge frames with data keys {sorted(keys)} and {sorted(f.data)}")
        tracked = any(f.student_ids is not None for f in frames)
        ids = (np.concatenate([f.student_ids if f.student_ids is not None else np.full(len(f), -1, np.int64)
                               for f in frames]) if tracked else None)
        first = frames[0]
        return cls(
            xyxy=np.concatenate([f.xyxy for f in frames]),
            confidence=np.concatenate([f.confidence for f in frames]),
            time_s=first.time_s,
            index=first.index,
            student_ids=ids,
            data={key: np.concatenate([f.data[key] for f in frames]) for key in keys},
            labels=first.labels,
        )

    def at(self, time_s: float, index: int) -> FaceFrame:
        """The same faces held on another frame that was not analysed (``held`` is set)."""
        return replace(self, time_s=time_s, index=index, held=True)

    @property
    def probs(self) -> np.ndarray | None:
        """The expression probabilities ``[N, len(labels)]``, or ``None`` before recognition."""
        return self.data.get(EXPRESSION)

    def emotions(self) -> list[str]:
        """Top emotion per face (empty when not recognised yet)."""
        probs = self.probs
        if probs is None or not self.labels:
            return []
        return [self.labels[i] for i in probs.argmax(axis=1)]

    def ids_or_unknown(self) -> np.ndarray:
        """``student_ids``, or −1 for every face when nobody tracked them."""
        return self.student_ids if self.student_ids is not None else np.full(len(self), -1, np.int64)
