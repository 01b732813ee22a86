"""Face-detection benchmark on an annotated image set (``fervision bench detect``).

Ground truth: ``ground_truth.json`` mapping image file → ``boxes_xywh`` (+ WIDER FACE's
``invalid`` flags, whose boxes are ignored). A detection is correct when it overlaps an
unmatched ground-truth face with IoU ≥ 0.5 (greedy, highest score first). Recall is
reported by face size, sqrt(w·h): < 24, 24–48 and ≥ 48 px; precision over all sizes.

The table scores each setting on every photo, thresholds included, so a threshold read off it is
chosen on the photos it is reported on; :func:`held_out_thresholds` chooses YuNet's threshold on
some photos and scores it on the others (cross-validation), which is the figure to quote.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.frame import FaceFrame
from ..engine.detectors import create_detector
from ..engine.sources import read_image
from ..engine.tracking import box_iou
from ..errors import FervisionError

BUCKETS = (("<24", 0, 24), ("24-48", 24, 48), (">=48", 48, 1e9))


@dataclass
class DetectionScore:
    name: str
    found: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in BUCKETS})
    total: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in BUCKETS})
    true_positives: int = 0
    detections: int = 0
    seconds: float = 0.0
    images: int = 0

    def recall(self, bucket: str) -> float:
        return self.found[bucket] / max(self.total[bucket], 1)

    @property
    def recall_24_plus(self) -> float:
        keys = ("24-48", ">=48")
        return sum(self.found[k] for k in keys) / max(sum(self.total[k] for k in keys), 1)

    @property
    def precision(self) -> float:
        return self.true_positives / max(self.detections, 1)

    @property
    def ms_per_image(self) -> float:
        return 1000 * self.seconds / max(self.images, 1)

    def add(self, other: DetectionScore) -> None:
        """Count ``other``'s images into this score too."""
        for key in self.found:
            self.found[key] += other.found[key]
            self.total[key] += other.total[key]
        self.true_positives += other.true_positives
        self.detections += other.detections
        self.seconds += other.seconds
        self.images += other.images


def load_ground_truth(data: str | Path) -> tuple[Path, dict[str, Any]]:
    root = Path(data)
    gt_file = root / "ground_truth.json"
    if not gt_file.is_file():
        raise FervisionError(f"{root} has no ground_truth.json (expected the wider_classroom layout).")
    images = root / "images" if (root / "images").is_dir() else root
    return images, json.loads(gt_file.read_text())


def score_detector(name: str, detector, images: Path, truth: dict[str, Any], iou: float = 0.5) -> DetectionScore:
    score = DetectionScore(name)
    for file, ann in sorted(truth.items()):
        image = read_image(images / file)
        t0 = time.perf_counter()
        found = detector(image)
        score.seconds += time.perf_counter() - t0
        add_image(score, found, ann, iou)
    return score


def add_image(score: DetectionScore, found: FaceFrame, ann: dict[str, Any], iou: float = 0.5) -> None:
    """Count one image's detections into ``score``: each detection, best score first, takes the
    unmatched ground-truth face it overlaps most (IoU >= ``iou``); one on a face marked invalid
    counts neither way."""
    xywh = np.asarray(ann["boxes_xywh"], np.float32).reshape(-1, 4)
    valid = ~np.asarray(ann.get("invalid", [0] * len(xywh)), bool)
    gt = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    sizes = np.sqrt(np.clip(xywh[:, 2] * xywh[:, 3], 0, None))
    score.images += 1
    order = np.argsort(-found.confidence)
    overlaps = box_iou(found.xyxy[order], gt)
    matched = np.zeros(len(gt), bool)
    for row in overlaps:
        candidates = np.where(~matched & (row >= iou))[0]
        if len(candidates):
            best = candidates[row[candidates].argmax()]
            matched[best] = True
            if valid[best]:
                score.true_positives += 1
                score.detections += 1
        else:
            score.detections += 1
    for label, lo, hi in BUCKETS:
        in_bucket = valid & (sizes >= lo) & (sizes < hi)
        score.total[label] += int(in_bucket.sum())
        score.found[label] += int((in_bucket & matched).sum())


THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.5, 0.91, 0.05))
MIN_PRECISION = 0.95


@dataclass
class HeldOutChoice:
    """A threshold chosen on the other photos, and how it does on these."""

    fold: int
    threshold: float
    tuned: DetectionScore
    held_out: DetectionScore


def score_at(found: dict[str, FaceFrame], truth: dict[str, Any], files: list[str], threshold: float) -> DetectionScore:
    """``files`` scored with only the detections at ``threshold`` or above."""
    score = DetectionScore(f"{threshold}")
    for file in files:
        add_image(score, found[file][found[file].confidence >= threshold], truth[file])
    return score


def choose(found: dict[str, FaceFrame], truth: dict[str, Any], files: list[str],
           thresholds: tuple[float, ...] = THRESHOLDS, min_precision: float = MIN_PRECISION) -> float:
    """The threshold with the best recall on faces >= 24 px among those at ``min_precision`` or
    more on ``files`` (then the more precise, then the lower threshold; the most precise one when
    none gets there)."""
    scores = [(t, score_at(found, truth, files, t)) for t in thresholds]
    good = [(s.recall_24_plus, s.precision, -t) for t, s in scores if s.precision >= min_precision]
    if good:
        return -max(good)[2]
    return max((s.precision, t) for t, s in scores)[1]


def held_out_thresholds(data: str | Path, folds: int = 2, detector: str = "yunet",
                        thresholds: tuple[float, ...] = THRESHOLDS) -> list[HeldOutChoice]:
    """Cross-validated threshold choice: photos are dealt into ``folds`` by sorted name (photo 1 to
    fold 1, photo 2 to fold 2, ...); for each fold the threshold is chosen on the other folds and
    scored on this one, so no photo is scored with a threshold chosen on it. The detector runs once
    at the lowest threshold (its default size filter on) and higher thresholds filter its boxes:
    NMS keeps the same boxes above a threshold either way."""
    images, truth = load_ground_truth(data)
    files = sorted(truth)
    net = create_detector(detector, min_confidence=min(thresholds))
    found = {file: net(read_image(images / file)) for file in files}
    choices = []
    for k in range(folds):
        here = files[k::folds]
        rest = [f for f in files if f not in here]
        t = choose(found, truth, rest, thresholds)
        choices.append(HeldOutChoice(k + 1, t, score_at(found, truth, rest, t), score_at(found, truth, here, t)))
    return choices


def format_held_out(choices: list[HeldOutChoice]) -> str:
    lines = ["| photos scored | threshold (chosen on the other photos) | recall >=24 there | precision there | "
             "recall >=24 here | precision here |", "|---|---|---|---|---|---|"]
    pooled = DetectionScore("pooled")
    for c in choices:
        lines.append(f"| fold {c.fold} ({c.held_out.images} photos) | {c.threshold:.2f} | "
                     f"{100 * c.tuned.recall_24_plus:.1f} % | {100 * c.tuned.precision:.1f} % | "
                     f"{100 * c.held_out.recall_24_plus:.1f} % | {100 * c.held_out.precision:.1f} % |")
        pooled.add(c.held_out)
    lines.append(f"| all {pooled.images}, each scored held out | — | | | **{100 * pooled.recall_24_plus:.1f} %** | "
                 f"**{100 * pooled.precision:.1f} %** |")
    return "\n".join(lines)


DEFAULT_SETTINGS: list[tuple[str, str, dict[str, Any]]] = [
    ("mediapipe full", "mediapipe", {}),
    ("mediapipe full, 2x2 tiles", "mediapipe", {"tiles": 2}),
    ("mediapipe full, 3x3 tiles", "mediapipe", {"tiles": 3}),
    ("mediapipe short, 3x3 tiles", "mediapipe", {"model": "short", "tiles": 3}),
    ("yunet 0.6", "yunet", {"min_confidence": 0.6}),
    ("yunet 0.7, every size", "yunet", {"min_confidence": 0.7, "min_size": 0}),
    ("yunet 0.7 (default: >= 16 px)", "yunet", {"min_confidence": 0.7}),
    ("yunet 0.75", "yunet", {"min_confidence": 0.75}),
    ("yunet 0.7, 2x2 tiles", "yunet", {"min_confidence": 0.7, "tiles": 2}),
]


def bench_detectors(data: str | Path, settings=DEFAULT_SETTINGS) -> list[DetectionScore]:
    images, truth = load_ground_truth(data)
    scores = []
    for label, name, options in settings:
        try:
            detector = create_detector(name, **options)
        except FervisionError as exc:
            print(f"skipping {label}: {exc}")
            continue
        scores.append(score_detector(label, detector, images, truth))
    return scores


def format_scores(scores: list[DetectionScore]) -> str:
    head = "| detector | recall <24 | recall 24-48 | recall >=48 | recall >=24 | precision | ms/image |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(
            f"| {s.name} | {100 * s.recall('<24'):.1f} % | {100 * s.recall('24-48'):.1f} % | "
            f"{100 * s.recall('>=48'):.1f} % | "
            f"{100 * s.recall_24_plus:.1f} % | {100 * s.precision:.1f} % | {s.ms_per_image:.0f} |"
        )
    if scores:
        t = scores[0].total
        buckets = ", ".join(f"{k}: {v}" for k, v in t.items())
        lines.append(f"\n{scores[0].images} images; faces per size bucket: {buckets}")
    return "\n".join(lines)
