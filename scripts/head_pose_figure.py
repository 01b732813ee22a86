"""docs/head_pose.jpg: the head-pose sign conventions on the bundled sample clip.

Three moments of assets/sample_pexels.mp4 (and the mirror image of one, for a turn the other
way), each with the pose fervision reads (FaceMesh landmarks) and its overlay arrow.
Run: .venv/bin/python scripts/head_pose_figure.py
"""

from pathlib import Path

import cv2
import numpy as np

from fervision.core.frame import HEAD_POSE
from fervision.engine.detectors import create_detector
from fervision.engine.signals import create_signal
from fervision.outputs.overlay import draw_faces

ROOT = Path(__file__).resolve().parents[1]


def frame_at(capture: cv2.VideoCapture, seconds: float) -> np.ndarray:
    capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
    ok, image = capture.read()
    if not ok:
        raise SystemExit(f"no frame at {seconds} s")
    return image


def panel(image: np.ndarray, caption: str, detector, signal) -> np.ndarray:
    faces = detector(image)
    faces = faces[[int(np.argmax((faces.xyxy[:, 2:] - faces.xyxy[:, :2]).prod(axis=1)))]]
    faces.data.update(signal.read(image, faces))
    yaw, pitch, roll = faces.data[HEAD_POSE][0]
    drawn = draw_faces(image, faces, head_marks=True)
    x1, y1, x2, y2 = faces.xyxy[0]
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, 1.9 * max(x2 - x1, y2 - y1)
    top, left = int(max(0, cy - side / 2)), int(max(0, cx - side / 2))
    crop = cv2.resize(drawn[top:top + int(side), left:left + int(side)], (300, 300))
    strip = np.full((70, 300, 3), 255, np.uint8)
    cv2.putText(strip, caption, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(strip, f"yaw {yaw:+.0f}  pitch {pitch:+.0f}  roll {roll:+.0f}", (8, 54), cv2.FONT_HERSHEY_SIMPLEX,
                0.55, (60, 60, 60), 1, cv2.LINE_AA)
    return np.vstack([crop, strip])


def main() -> None:
    capture = cv2.VideoCapture(str(ROOT / "assets" / "sample_pexels.mp4"))
    detector, signal = create_detector("yunet"), create_signal("head_pose")
    turned = frame_at(capture, 7.9)
    panels = [
        panel(turned, "turned to her right: yaw < 0", detector, signal),
        panel(frame_at(capture, 15.6), "facing the camera: yaw ~ 0", detector, signal),
        panel(np.ascontiguousarray(turned[:, ::-1]), "mirrored: her left, yaw > 0", detector, signal),
        panel(frame_at(capture, 13.5), "looking up: pitch > 0", detector, signal),
    ]
    out = ROOT / "docs" / "head_pose.jpg"
    cv2.imwrite(str(out), np.hstack([np.pad(p, ((0, 0), (4, 4), (0, 0)), constant_values=255) for p in panels]),
                [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(out)


if __name__ == "__main__":
    main()
