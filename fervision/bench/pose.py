"""Head-pose benchmark (``fervision bench pose --data DIR``): what can be measured without a
head-pose dataset, for each landmark source.

1. **Typical vs atypical pose**: WIDER FACE marks each face's pose as typical (0) or atypical (1).
   Faces marked atypical should get clearly larger |yaw| + |pitch|: the AUC of that score
   separating the two (0.5: no better than chance), on valid faces of at least ``min_px``.
2. **Mirror consistency**: on the mirrored photo, yaw should be −yaw, pitch the same and roll
   −roll: Pearson correlations of (yaw, −yaw′), (pitch, pitch′), (roll, −roll′) and the median
   absolute yaw difference.
3. **Coverage and speed**: share of faces that got a pose, milliseconds per face.
4. With ``--video``: yaw, pitch over time of the largest face, plotted beside frames
   (a PNG written to ``--output``), to see the angles follow a head that turns.

Landmark sources: ``facemesh`` (MediaPipe FaceMesh on a crop around each face: 478 points, six
used for the pose, eyelids for eyes-open), ``yunet`` (YuNet's five points, the face looked for
again in its surroundings at a standard size) and ``facemesh+yunet`` (FaceMesh, and YuNet where
FaceMesh finds no face: the signal's default).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..engine.signals.head_pose import HeadPoseReader
from ..engine.sources import read_image
from .detection import load_ground_truth

Poses = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(image, boxes xyxy) -> [n, 3] yaw, pitch, roll (NaN where no pose)."""


def _poses(landmarks: str) -> Callable[[], Poses]:
    def make() -> Poses:
        reader = HeadPoseReader(landmarks)
        return lambda image, xyxy: reader.read(image, xyxy)[0]

    return make


SOURCES: dict[str, Callable[[], Poses]] = {name: _poses(name) for name in ("facemesh", "yunet", "facemesh+yunet")}
"""The head-pose signal's landmark sources (``engine/signals/head_pose.py``), read exactly as it reads them."""


@dataclass
class PoseScore:
    source: str
    faces: int = 0
    posed: int = 0
    seconds: float = 0.0
    auc: float = math.nan
    typical: int = 0
    atypical: int = 0
    mirror: dict[str, float] = field(default_factory=dict)
    yaw_diff_deg: float = math.nan

    @property
    def coverage(self) -> float:
        return self.posed / max(self.faces, 1)

    @property
    def ms_per_face(self) -> float:
        return 1000 * self.seconds / max(self.faces, 1)


def auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not len(negatives) or not len(positives):
        return math.nan
    greater = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(greater + 0.5 * ties)


def _mirror(xyxy: np.ndarray, width: int) -> np.ndarray:
    out = xyxy.copy()
    out[:, 0], out[:, 2] = width - xyxy[:, 2], width - xyxy[:, 0]
    return out


def score_source(name: str, images: Path, truth: dict, min_px: float = 24.0) -> PoseScore:
    poses = SOURCES[name]()
    score = PoseScore(name)
    flags, found, mirrored = [], [], []
    for file, ann in sorted(truth.items()):
        image = read_image(images / file)
        xywh = np.asarray(ann["boxes_xywh"], np.float32).reshape(-1, 4)
        keep = ~np.asarray(ann.get("invalid", [0] * len(xywh)), bool) & (np.sqrt(xywh[:, 2] * xywh[:, 3]) >= min_px)
        if not keep.any():
            continue
        xyxy = np.concatenate([xywh[keep, :2], xywh[keep, :2] + xywh[keep, 2:]], axis=1)
        t0 = time.perf_counter()
        found.append(poses(image, xyxy))
        score.seconds += time.perf_counter() - t0
        score.faces += len(xyxy)
        flipped = np.ascontiguousarray(image[:, ::-1])
        mirrored.append(poses(flipped, _mirror(xyxy, image.shape[1])))
        flags.append(np.asarray(ann.get("pose", [0] * len(xywh)), int)[keep])
    pose, pose_m, flag = np.concatenate(found), np.concatenate(mirrored), np.concatenate(flags)
    ok = np.isfinite(pose).all(axis=1)
    score.posed = int(ok.sum())
    turn = np.abs(pose[:, 0]) + np.abs(pose[:, 1])
    score.typical, score.atypical = int((ok & (flag == 0)).sum()), int((ok & (flag == 1)).sum())
    score.auc = auc(turn[ok & (flag == 0)], turn[ok & (flag == 1)])
    both = ok & np.isfinite(pose_m).all(axis=1)
    if both.sum() > 2:
        for k, (axis, sign) in enumerate((("yaw", -1), ("pitch", 1), ("roll", -1))):
            score.mirror[axis] = float(np.corrcoef(pose[both, k], sign * pose_m[both, k])[0, 1])
        score.yaw_diff_deg = float(np.median(np.abs(pose[both, 0] + pose_m[both, 0])))
    return score


def bench_pose(data: str | Path, sources: list[str] | None = None) -> list[PoseScore]:
    images, truth = load_ground_truth(data)
    return [score_source(name, images, truth) for name in (sources or list(SOURCES))]


def format_pose(scores: list[PoseScore]) -> str:
    lines = ["| landmarks | faces with a pose | AUC atypical vs typical (|yaw|+|pitch|) | mirror r yaw / pitch / roll "
             "| median |yaw + yaw'| | ms/face |", "|---|---|---|---|---|---|"]
    for s in scores:
        mirror = " / ".join(f"{s.mirror.get(k, math.nan):.2f}" for k in ("yaw", "pitch", "roll"))
        lines.append(f"| {s.source} | {s.posed}/{s.faces} ({100 * s.coverage:.0f} %) | {s.auc:.3f} "
                     f"({s.atypical} atypical, {s.typical} typical) | {mirror} | {s.yaw_diff_deg:.1f}° "
                     f"| {s.ms_per_face:.1f} |")
    return "\n".join(lines)


def plot_video_pose(video: str | Path, output: str | Path, sources: tuple[str, ...] = ("facemesh", "yunet"),
                    every_s: float = 0.2, max_s: float = 30.0) -> Path:
    """Yaw and pitch of the largest face over time by each landmark source, with six frames below
    (their yaw by the first source), to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..engine.detectors import create_detector

    detector, readers = create_detector("yunet"), [SOURCES[source]() for source in sources]
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(every_s * fps))
    times, angles, frames = [], [], []
    index = 0
    while index / fps <= max_s:
        ok, image = capture.read()
        if not ok:
            break
        if index % step == 0:
            faces = detector(image)
            pose = np.full((len(readers), 3), np.nan)
            if len(faces):
                largest = int(np.argmax((faces.xyxy[:, 2:] - faces.xyxy[:, :2]).prod(axis=1)))
                pose = np.stack([read(image, faces.xyxy[largest:largest + 1])[0] for read in readers])
            times.append(index / fps)
            angles.append(pose)
            frames.append((index / fps, image, pose[0]))
        index += 1
    capture.release()
    angle = np.array(angles).reshape(-1, len(readers), 3)
    picks = [frames[i] for i in np.linspace(0, len(frames) - 1, 6).round().astype(int)] if frames else []
    fig = plt.figure(figsize=(12, 6.5), dpi=100)
    top = fig.add_axes((0.06, 0.45, 0.9, 0.5))
    for k, (source, style) in enumerate(zip(sources, ("-", "--", ":"), strict=False)):
        top.plot(times, angle[:, k, 0], style, color="tab:blue", label=f"yaw, {source} (> 0: turned to their left)")
        top.plot(times, angle[:, k, 1], style, color="tab:orange", label=f"pitch, {source} (> 0: looking up)")
    top.axhline(0, color="grey", lw=0.5)
    top.set_xlabel("time (s)")
    top.set_ylabel("degrees")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(f"{Path(video).name}: head pose of the largest face", fontsize=10)
    for k, (t, image, pose) in enumerate(picks):
        ax = fig.add_axes((0.02 + k * 0.163, 0.02, 0.155, 0.3))
        ax.imshow(image[..., ::-1])
        ax.set_axis_off()
        ax.set_title(f"{t:.1f} s  yaw {pose[0]:+.0f}°" if np.isfinite(pose[0]) else f"{t:.1f} s  no pose", fontsize=8)
        top.axvline(t, color="black", lw=0.5, ls=":")
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
