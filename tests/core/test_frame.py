import numpy as np
import pytest

from fervision.core.frame import FaceFrame


def _frame(n=3, ids=True):
    return FaceFrame(xyxy=np.arange(4 * n, dtype=np.float32).reshape(n, 4), confidence=np.linspace(0.5, 0.9, n),
                     time_s=1.5, index=7, student_ids=np.arange(1, n + 1) if ids else None,
                     data={"expression": np.eye(n, 3, dtype=np.float32), "pose": np.arange(n, dtype=np.float32)},
                     labels=["a", "b", "c"])


def test_validation_names_the_field_that_does_not_fit():
    with pytest.raises(ValueError, match="confidence"):
        FaceFrame(xyxy=np.zeros((2, 4)), confidence=np.zeros(3))
    with pytest.raises(ValueError, match="student_ids"):
        FaceFrame(xyxy=np.zeros((2, 4)), confidence=np.zeros(2), student_ids=np.zeros(1))
    with pytest.raises(ValueError, match=r"data\['pose'\] has 1 rows for 2 faces"):
        FaceFrame(xyxy=np.zeros((2, 4)), confidence=np.zeros(2), data={"pose": np.zeros(1)})
    empty = FaceFrame()
    assert len(empty) == 0 and empty.xyxy.shape == (0, 4) and empty.emotions() == []


@pytest.mark.parametrize("index", [np.array([False, True, True]), slice(1, None), [1, 2], np.array([1, 2])])
def test_indexing_keeps_every_field_data_included(index):
    frame = _frame()
    part = frame[index]
    assert len(part) == 2 and part is not frame
    assert part.xyxy.tolist() == frame.xyxy[1:].tolist()
    assert part.confidence.tolist() == frame.confidence[1:].tolist()
    assert part.student_ids.tolist() == [2, 3]
    assert part.data["pose"].tolist() == [1.0, 2.0] and part.data["expression"].shape == (2, 3)
    assert (part.time_s, part.index, part.labels) == (1.5, 7, ["a", "b", "c"])
    assert part.emotions() == ["b", "c"]


def test_an_int_keeps_a_one_face_frame_and_a_bad_mask_is_refused():
    frame = _frame()
    one = frame[2]
    assert len(one) == 1 and one.student_ids.tolist() == [3] and one.data["pose"].tolist() == [2.0]
    with pytest.raises(IndexError, match="3 values"):
        frame[np.array([True, False])]


def test_merge_concatenates_and_fills_missing_ids():
    a, b = _frame(2), _frame(3, ids=False)
    merged = FaceFrame.merge([a, b])
    assert len(merged) == 5 and merged.student_ids.tolist() == [1, 2, -1, -1, -1]
    assert merged.data["pose"].tolist() == [0, 1, 0, 1, 2] and merged.time_s == a.time_s
    assert FaceFrame.merge([_frame(1, ids=False), _frame(1, ids=False)]).student_ids is None
    assert len(FaceFrame.merge([])) == 0
    with pytest.raises(ValueError, match="data keys"):
        FaceFrame.merge([a, FaceFrame(xyxy=np.zeros((1, 4)), confidence=np.ones(1))])


def test_at_moves_the_faces_to_another_frame_without_copying():
    frame = _frame()
    held = frame.at(2.0, 8)
    assert (held.time_s, held.index) == (2.0, 8) and np.shares_memory(held.xyxy, frame.xyxy) and len(held) == 3
