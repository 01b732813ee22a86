"""``data["travel"]``: students sit, someone walking past travels (the record leaves them out)."""

import cv2
import numpy as np

from fervision.core.boxes import box_iou
from fervision.core.frame import TRAVEL
from fervision.engine.detectors import create_detector
from fervision.engine.pipeline import Pipeline
from fervision.engine.second_look import SecondLook
from fervision.engine.sources import VideoFrame
from fervision.engine.stages import DetectStage, TrackStage
from fervision.engine.tracking import StudentTracker

from ..conftest import ROOT, shared_path


def _walker_band(frame: np.ndarray) -> tuple[int, int] | None:
    """The columns of the dark figure that walks past in classroom_pan_720p (uniform grey, ~170 px wide)."""
    rows = frame[300:600].astype(np.int16)
    flat = (rows.std(axis=0).mean(axis=1) < 6) & (np.abs(rows.mean(axis=(0, 2)) - 43) < 10)
    cols = np.where(flat[20:1260])[0] + 20  # leave out the dark margins at the frame's edges
    return (int(cols.min()), int(cols.max())) if len(cols) > 150 else None


def test_a_face_walking_past_travels_and_seated_students_do_not():
    """classroom_pan_720p's walker has no face; a real one (the repository's sample photo) is put on it."""
    photo = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))[10:376, 300:597]
    face = cv2.resize(photo, (120, 148))
    cap = cv2.VideoCapture(str(shared_path("data", "media", "classroom_pan_720p.mp4")))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 100)
    pipeline = Pipeline([DetectStage(create_detector("yunet"), every=3), TrackStage(StudentTracker(), SecondLook())])
    travel: dict[int, float] = {}
    walker: set[int] = set()
    for i in range(100, 200):  # the first walk past, left to right, ~3.6 face sizes a second
        ok, frame = cap.read()
        assert ok
        band = _walker_band(frame)
        pasted = None
        if band is not None:
            x = (band[0] + band[1]) // 2 - 60
            frame[420:568, x:x + 120] = face
            pasted = np.array([[x, 420, x + 120, 568]], np.float32)
        faces = pipeline.process(VideoFrame(frame, i / 25, i))
        for k, sid in enumerate(faces.student_ids):
            if sid > 0:
                travel[int(sid)] = float(faces.data[TRAVEL][k])
                if pasted is not None and box_iou(faces.xyxy[k:k + 1], pasted)[0, 0] > 0.5:
                    walker.add(int(sid))
    cap.release()
    seated = [t for s, t in travel.items() if s not in walker]
    assert walker and len(seated) >= 18
    assert max(travel[s] for s in walker) > 2.0
    assert max(seated) < 1.0
