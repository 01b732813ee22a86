"""Frame sources: video files, cameras, and images (a file or a folder).

Every frame carries its own timestamp: from the container for files
(``CAP_PROP_POS_MSEC``), from the clock for cameras, and the image index for stills.
Files decode on a thread into a bounded queue; cameras keep only the newest frame, so a
slow consumer drops stale frames instead of falling behind.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from ..errors import FervisionError

SourceT = TypeVar("SourceT", bound="Source")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
_END = object()


@dataclass
class VideoFrame:
    """One decoded BGR frame with its time in seconds from the start of the source."""

    image: np.ndarray
    time_s: float
    index: int


def read_image(path: str | Path) -> np.ndarray:
    """BGR uint8 image, or a one-sentence error for a missing, empty or undecodable file."""
    path = Path(path)
    if not path.is_file():
        raise FervisionError(f"No image file at {path}.")
    if path.stat().st_size == 0:
        raise FervisionError(f"{path} is empty (0 bytes).")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FervisionError(f"{path} is not an image OpenCV can decode.")
    return image



class Source:
    """Base class: iterate for frames; ``live`` sources drop frames rather than queue them."""

    live: bool = False
    fps: float | None = None
    frame_count: int | None = None
    name: str = ""
    failed_frames: int = 0

    def __iter__(self) -> Iterator[VideoFrame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self: SourceT) -> SourceT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise FervisionError(f"No {what} file at {path}.")
    if path.is_file() and path.stat().st_size == 0:
        raise FervisionError(f"{path} is empty (0 bytes).")


class VideoFileSource(Source):
    """A video file decoded by OpenCV on a background thread (bounded queue of ``buffer`` frames).

    Frames that fail to decode in the middle of a file are skipped and counted in
    ``failed_frames``; decoding stops after ``max_consecutive_failures`` in a row.
    """

    def __init__(self, path: str | Path, buffer: int = 8, max_consecutive_failures: int = 25,
                 start_s: float = 0.0) -> None:
        """``start_s`` seeks before decoding starts (to the key frame at or before it, as OpenCV does)."""
        self.path = Path(path)
        _check_file(self.path, "video")
        self.name = self.path.stem
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise FervisionError(f"{self.path} is not a video OpenCV can decode.")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.duration_s = self.frame_count / self.fps if self.frame_count and self.fps else None
        self._first_index = 0
        if start_s > 0:
            self._cap.set(cv2.CAP_PROP_POS_MSEC, start_s * 1000.0)
            self._first_index = max(0, int(self._cap.get(cv2.CAP_PROP_POS_FRAMES)))
        self._max_failures = max_consecutive_failures
        self._queue: queue.Queue = queue.Queue(maxsize=buffer)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _decode(self) -> None:
        index, failures = self._first_index, 0
        try:
            while not self._stop.is_set():
                if not self._cap.grab():
                    if self.frame_count is None or index + self.failed_frames >= self.frame_count:
                        break
                    failures += 1
                    self.failed_frames += 1
                    if failures >= self._max_failures:
                        break
                    continue
                ok, image = self._cap.retrieve()
                if not ok or image is None:
                    self.failed_frames += 1
                    continue
                failures = 0
                # Some containers (e.g. .mov edit lists) start slightly below zero.
                frame = VideoFrame(image, max(0.0, self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0), index)
                index += 1
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        finally:
            self._put_end()

    def _put_end(self) -> None:
        while True:
            try:
                self._queue.put(_END, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set():
                    return

    def __iter__(self) -> Iterator[VideoFrame]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._decode, name="fervision-decode", daemon=True)
            self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            while self._thread.is_alive():
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    self._thread.join(timeout=0.05)
        self._cap.release()


class CameraSource(Source):
    """A webcam: a reader thread keeps only the newest frame, so processing never lags behind."""

    live = True

    def __init__(self, index: int, open_timeout_s: float = 5.0) -> None:
        self.name = f"camera{index}"
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise FervisionError(f"Camera {index} does not exist or is busy.")
        ok, first = self._cap.read()
        if not ok:
            self._cap.release()
            raise FervisionError(f"Camera {index} opened but delivers no frames.")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        self._start = time.monotonic()
        self._latest: VideoFrame | None = VideoFrame(first, 0.0, 0)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.dropped_frames = 0
        self._thread = threading.Thread(target=self._read, name="fervision-camera", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        index = 1
        while not self._stop.is_set():
            ok, image = self._cap.read()
            if not ok:
                self.failed_frames += 1
                if self.failed_frames > 50:
                    break
                continue
            with self._cond:
                if self._latest is not None:
                    self.dropped_frames += 1  # the consumer has not taken the previous one: it is stale
                self._latest = VideoFrame(image, time.monotonic() - self._start, index)
                index += 1
                self._cond.notify()
        with self._cond:
            self._stop.set()
            self._cond.notify()

    def __iter__(self) -> Iterator[VideoFrame]:
        while True:
            with self._cond:
                while self._latest is None and not self._stop.is_set():
                    self._cond.wait(timeout=0.5)
                if self._latest is None:
                    return
                frame, self._latest = self._latest, None
            yield frame

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._cap.release()


class ImageSource(Source):
    """One image file or every image in a folder (sorted by name); ``time_s`` is the image's index."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_file(self.path, "image")
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.files:
                raise FervisionError(f"{self.path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
        else:
            self.files = [self.path]
        self.name = self.path.stem
        self.frame_count = len(self.files)

    def __iter__(self) -> Iterator[VideoFrame]:
        for index, file in enumerate(self.files):
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                if len(self.files) == 1:
                    raise FervisionError(f"{file} is not an image OpenCV can decode.")
                self.failed_frames += 1
                continue
            yield VideoFrame(image, float(index), index)


def list_cameras(max_index: int = 8) -> list[int]:
    """Indices of the cameras OpenCV can open. On Linux the device nodes are listed first, so
    a machine without cameras answers at once instead of probing every index."""
    candidates: list[int] = list(range(max_index))
    if Path("/dev").is_dir() and sys.platform.startswith("linux"):
        candidates = sorted(int(p.name[5:]) for p in Path("/dev").glob("video*") if p.name[5:].isdigit())
    found = []
    for index in candidates[:max_index]:
        cap = cv2.VideoCapture(index)
        try:
            if cap.isOpened():
                found.append(index)
        finally:
            cap.release()
    return found


def open_source(spec: str | int | Path) -> Source:
    """A camera index (``0``), an image file or folder, or a video file."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    path = Path(spec)
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path)
    return VideoFileSource(path)
