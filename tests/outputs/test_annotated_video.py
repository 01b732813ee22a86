import av
import numpy as np
import pytest

from fervision.analysis.annotate import annotate
from fervision.core.frame import FaceFrame
from fervision.errors import FervisionError
from fervision.outputs.overlay import draw_faces
from fervision.outputs.video import AnnotatedVideoSink, H264Writer

from ..conftest import ROOT


def _frames(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def test_a_larger_frame_is_shrunk_before_drawing_and_encoding(tmp_path):
    """A 1600x900 frame with a face box at (800..1000, 300..500) becomes 800x450 with the box
    drawn at half the coordinates, in the overlay's thickness for the smaller frame."""
    image = np.full((900, 1600, 3), 90, np.uint8)
    faces = FaceFrame(xyxy=np.array([[800, 300, 1000, 500]], np.float32), confidence=np.array([0.9], np.float32),
                      student_ids=np.array([1]))
    sink = AnnotatedVideoSink(tmp_path / "a.mp4", 10.0, (1600, 900), draw_faces, max_side=800)
    for k in range(3):
        faces.time_s = k / 10
        sink.write(faces, image)
    sink.close()
    (first, *_) = _frames(sink.path)
    assert first.shape == (450, 800, 3)
    line = first[200:250, 398:403].mean(axis=(0, 1))  # the box's left edge, now at x = 400
    inside = first[200:250, 420:440].mean(axis=(0, 1))
    assert line.min() > 150 and abs(inside.mean() - 90) < 10


def test_max_side_leaves_smaller_frames_and_refuses_nonsense(tmp_path):
    sink = AnnotatedVideoSink(tmp_path / "b.mp4", 10.0, (640, 360), draw_faces, max_side=1280)
    assert sink.size == (640, 360) and sink.scale == 1.0
    sink.write(FaceFrame(), np.zeros((360, 640, 3), np.uint8))
    sink.close()
    assert _frames(sink.path)[0].shape == (360, 640, 3)
    with pytest.raises(FervisionError, match="64 pixels or more"):
        AnnotatedVideoSink(tmp_path / "c.mp4", 10.0, (640, 360), draw_faces, max_side=10)
    with pytest.raises(FervisionError, match="--video-max-side takes 64 pixels or more"):
        annotate(str(ROOT / "assets" / "sample_face_pexels.jpg"), output=tmp_path / "d", video_max_side=10)


@pytest.mark.parametrize("max_side,expected", [(None, (320, 180)), (0, (320, 180)), (160, (160, 90))])
def test_annotate_writes_the_video_at_the_size_asked(tmp_path, max_side, expected):
    clip = tmp_path / "clip.mp4"
    with H264Writer(clip, 10.0, (320, 180)) as writer:
        for k in range(5):
            writer.write(np.full((180, 320, 3), 40 * k, np.uint8), k / 10)
    result = annotate(str(clip), output=tmp_path / "out", video_max_side=max_side, progress=False)
    (first, *_) = _frames(result.outputs["video"])
    assert first.shape[:2] == expected[::-1]
