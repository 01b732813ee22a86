"""Two runtimes for YuNet's network with one output: ONNX Runtime (the default) and OpenCV's DNN.

Both return OpenCV's ``FaceDetectorYN`` rows, ``[n, 15]``: x, y, w, h, five points (x, y) and
the score, in the pixels of the image given. ONNX Runtime runs the same network about twice as
fast on a CPU (``fervision bench detect``: 34-42 vs 57-72 ms per wider_classroom photo on 2 cores,
run side by side), which matters because detection is most of a frame's time. OpenCV's DNN
remains for a model file whose input size is fixed (ONNX Runtime checks it; the shipped file
names its height and width free, see ``scripts/yunet_any_size.py``) and where ``onnxruntime`` is
not installed.

The decoding follows OpenCV's ``FaceDetectorYN`` (the image padded with black to a multiple of
32 at the bottom and right, three strides of anchors, score sqrt(class · objectness), NMS), so
the two runtimes find the same faces (``tests/engine/test_detectors.py`` compares them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np

from ...core.onnx_runtime import cpu_session, onnxruntime_available
from ...errors import FervisionError

Backend = Literal["auto", "onnxruntime", "opencv"]
BACKENDS: tuple[Backend, ...] = ("auto", "onnxruntime", "opencv")
STRIDES = (8, 16, 32)
MAX_FACES = 5000


class YuNetRuntime(Protocol):
    name: str

    def detect(self, image_bgr: np.ndarray) -> np.ndarray:
        """``[n, 15]`` float32 rows (x, y, w, h, 5 × (x, y), score) with score >= the minimum, after NMS."""
        ...


class OpenCvYuNet:
    name = "opencv"

    def __init__(self, path: Path, min_score: float, nms: float) -> None:
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), min_score, nms, MAX_FACES)
        except cv2.error:
            raise FervisionError(f"OpenCV cannot read {path} as YuNet's ONNX model.") from None
        self._size: tuple[int, int] | None = None

    def detect(self, image_bgr: np.ndarray) -> np.ndarray:
        h, w = image_bgr.shape[:2]
        if self._size != (w, h):
            self._net.setInputSize((w, h))
            self._size = (w, h)
        _, faces = self._net.detect(image_bgr)
        return np.zeros((0, 15), np.float32) if faces is None else faces.astype(np.float32)


class OnnxRuntimeYuNet:
    name = "onnxruntime"

    def __init__(self, path: Path, min_score: float, nms: float, threads: int | None = None) -> None:
        try:
            self._session = cpu_session(str(path), threads or cv2.getNumThreads())
        except Exception as exc:  # onnxruntime's errors (bad protobuf, bad graph) share no public base class
            raise UnreadableModel(f"ONNX Runtime cannot read {path} as an ONNX model "
                                  f"({str(exc).splitlines()[0][:200]}).") from None
        (image,) = self._session.get_inputs()
        if not has_free_size(image.shape):
            raise FervisionError(f"{path.name} has a fixed input size {image.shape}; ONNX Runtime needs one whose "
                                 "height and width are free (scripts/yunet_any_size.py makes it).")
        self._input = image.name
        self._outputs = [f"{kind}_{s}" for s in STRIDES for kind in ("cls", "obj", "bbox", "kps")]
        self.min_score, self.nms = min_score, nms
        self._blob = np.zeros((1, 3, 0, 0), np.float32)
        self._size: tuple[int, int] | None = None

    def detect(self, image_bgr: np.ndarray) -> np.ndarray:
        h, w = image_bgr.shape[:2]
        ph, pw = -(-h // STRIDES[-1]) * STRIDES[-1], -(-w // STRIDES[-1]) * STRIDES[-1]
        if self._size != (w, h):  # kept between frames: its black padding is written once
            self._blob, self._size = np.zeros((1, 3, ph, pw), np.float32), (w, h)
        self._blob[0, :, :h, :w] = image_bgr.transpose(2, 0, 1)
        outputs = self._session.run(self._outputs, {self._input: self._blob})
        rows = []
        for i, stride in enumerate(STRIDES):
            cls, obj, bbox, kps = outputs[4 * i:4 * i + 4]
            rows.append(decode(cls, obj, bbox, kps, stride, pw // stride, self.min_score))
        faces = np.concatenate(rows)
        if len(faces) > 1:
            keep = cv2.dnn.NMSBoxes(faces[:, :4].tolist(), faces[:, 14].tolist(), self.min_score, self.nms,
                                    top_k=MAX_FACES)
            faces = faces[np.asarray(keep, int).reshape(-1)]
        return faces


class UnreadableModel(FervisionError):
    """The file is no ONNX model ONNX Runtime can load (OpenCV's DNN is not tried on it either)."""


def has_free_size(shape: list) -> bool:
    """Whether an NCHW input's height and width are symbolic (any size) rather than fixed numbers."""
    return len(shape) == 4 and not any(isinstance(d, int) for d in shape[2:])


def decode(cls: np.ndarray, obj: np.ndarray, bbox: np.ndarray, kps: np.ndarray, stride: int, columns: int,
           min_score: float) -> np.ndarray:
    """One stride's anchors → OpenCV's face rows, keeping those scoring at least ``min_score``."""
    score = np.sqrt(np.clip(cls.reshape(-1), 0, 1) * np.clip(obj.reshape(-1), 0, 1))
    index = np.flatnonzero(score >= min_score)
    if not len(index):
        return np.zeros((0, 15), np.float32)
    cell = np.stack([index % columns, index // columns], axis=1).astype(np.float32)  # (column, row)
    box = bbox.reshape(-1, 4)[index]
    centre = (cell + box[:, :2]) * stride
    size = np.exp(box[:, 2:]) * stride
    points = (kps.reshape(-1, 5, 2)[index] + cell[:, None, :]) * stride
    return np.concatenate([centre - size / 2, size, points.reshape(-1, 10), score[index, None]],
                          axis=1).astype(np.float32)


def open_yunet(path: Path, min_score: float, nms: float, backend: Backend = "auto") -> YuNetRuntime:
    """YuNet on ``backend``; ``auto`` is ONNX Runtime where it is installed and the file's input size
    is free, else OpenCV's DNN."""
    if backend not in BACKENDS:
        raise FervisionError(f"YuNet runs on {', '.join(BACKENDS)}, not {backend!r}.")
    if backend == "opencv" or (backend == "auto" and not onnxruntime_available()):
        return OpenCvYuNet(path, min_score, nms)
    if not onnxruntime_available():
        raise FervisionError("YuNet's onnxruntime backend needs the onnxruntime package (pip install onnxruntime).")
    try:
        return OnnxRuntimeYuNet(path, min_score, nms)
    except UnreadableModel:
        raise
    except FervisionError:  # a fixed input size
        if backend == "auto":
            return OpenCvYuNet(path, min_score, nms)
        raise
