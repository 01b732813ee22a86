"""Frame sources: video files, cameras, and images (a file or a folder).

Every frame carries its own timestamp: from the container for files
(``CAP_PROP_POS_MSEC``, so variable-frame-rate video keeps its timing), from the clock for
cameras, and the image index for stills. Video frames come upright: a phone clip stored
landscape with a rotation tag is turned as a player would turn it. Files decode on a thread
into a bounded queue; cameras keep only the newest frame, so a slow consumer drops stale
frames instead of falling behind.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# FFmpeg inside OpenCV would print its own complaints ("moov atom not found", "Invalid NAL
# unit size") above our one sentence. OpenCV reads this once, when it opens its first file,
# so it is set before cv2 is used; set the variable yourself (e.g. to 24) to see them.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2
import numpy as np

from ..errors import FervisionError

SourceT = TypeVar("SourceT", bound="Source")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MAX_IMAGE_PIXELS = 100_000_000
"""Larger images are refused before decoding: a 30000×30000 PNG took 6.4 GB, and the detector
sees at most a 1280 px frame anyway."""
MIN_VIDEO_SIDE = 16
"""Narrower or lower videos are refused: no face fits, and OpenCV's resizing asserts on them."""
_END = object()
_MP4_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"}
_CONVERT = "try converting it to MP4 (H.264)"


@contextlib.contextmanager
def _opencv_quiet() -> Iterator[None]:
    """Silence OpenCV's own warnings (a missing camera prints two) while probing; our sentence says it."""
    previous = cv2.setLogLevel(0)
    try:
        yield
    finally:
        cv2.setLogLevel(previous)


@dataclass
class VideoFrame:
    """One decoded BGR frame with its time in seconds from the start of the source."""

    image: np.ndarray
    time_s: float
    index: int


def read_image(path: str | Path) -> np.ndarray:
    """BGR uint8 image, or a one-sentence error for a missing, empty, special, huge or undecodable file."""
    path = Path(path)
    _check_file(path, "image")
    if path.is_dir():
        raise FervisionError(f"{path} is a folder, not an image file.")
    return _decode_image(path)


def _decode_image(path: Path) -> np.ndarray:
    _check_image_size(path)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FervisionError(f"{path} is not an image fervision can read (JPEG, PNG, BMP, WebP or TIFF); "
                             "it may be damaged or incomplete.")
    return image


def _check_image_size(path: Path) -> None:
    """Refuse an image over ``MAX_IMAGE_PIXELS`` from its header, before anything is decoded."""
    try:
        from PIL import Image  # installed with matplotlib; reads only the header here
    except ImportError:  # pragma: no cover - OpenCV's own limit (2^30 pixels) still applies
        return
    too_big = (f"{path} is larger than the {MAX_IMAGE_PIXELS // 1_000_000} megapixels fervision reads; "
               "scale it down first.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError:  # PIL's own limit, above ours
        raise FervisionError(too_big) from None
    except Exception:  # a header PIL cannot read: let OpenCV try (and fail with our sentence)
        return
    if width * height > MAX_IMAGE_PIXELS:
        raise FervisionError(f"{path} is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels), more than "
                             f"the {MAX_IMAGE_PIXELS // 1_000_000} megapixels fervision reads; scale it down first.")


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
    if not path.is_file() and not path.is_dir():  # reading a named pipe would wait forever
        camera = ", or a camera's number such as 0" if what == "video" else ""
        raise FervisionError(f"{path} is a pipe, socket or device, not a regular file; "
                             f"give a saved {what} file{camera}.")
    if path.is_file() and path.stat().st_size == 0:
        raise FervisionError(f"{path} is empty (0 bytes).")


def _mp4_state(path: Path) -> str | None:
    """For an MP4/MOV file: ``"complete"``, ``"no index"`` (no ``moov`` box: the writer never
    finished, or the copy stops before the index) or ``"cut"`` (a box runs past the end of the
    file). ``None`` for anything that is not MP4/MOV."""
    size, pos, boxes, broken = path.stat().st_size, 0, set[bytes](), False
    with open(path, "rb") as f:
        for _ in range(10_000):
            if pos + 8 > size:
                break
            f.seek(pos)
            head = f.read(16)
            length, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if pos == 0 and kind not in _MP4_FIRST_BOXES:
                return None
            if length == 1 and len(head) == 16:
                length = int.from_bytes(head[8:16], "big")
            elif length == 0:  # the last box, up to the end of the file
                length = size - pos
            if length < 8:  # not a box: the file is damaged from here
                broken = True
                break
            boxes.add(kind)
            pos += length
    if not boxes:
        return None
    if b"moov" not in boxes:
        return "no index"
    return "cut" if broken or pos > size else "complete"


def _unreadable_video(path: Path, opened: bool) -> str:
    """The sentence for a video that does not open (or opens without a single frame)."""
    state = _mp4_state(path)
    if state == "no index":
        return (f"{path} could not be opened as a video: it is incomplete (its index is missing), as happens "
                "while it is still downloading or copying or when a recording was interrupted; wait until "
                "it is complete, or copy it again.")
    if state == "cut":
        return (f"{path} could not be opened as a video: it ends early, as happens while it is still downloading "
                "or copying; wait until it is complete, or copy it again.")
    if opened:
        return (f"{path} opened as a video but none of its frames could be decoded: it may be damaged or use "
                f"a codec this build cannot read; {_CONVERT}.")
    return (f"{path} could not be opened as a video: it may be incomplete (still downloading or copying), "
            f"damaged, not a video, or in a format this build cannot read; {_CONVERT}.")


def _indexed_frame_count(path: Path, header_count: int) -> int | None:
    """Frames the MP4/MOV index lists less those its edit list discards, when the index lists
    every frame (OpenCV's count includes the discarded ones: ``no_face.mp4`` says 98 where 95
    decode); ``None`` when PyAV cannot tell."""
    try:
        import av

        with av.open(str(path)) as container:
            entries = getattr(container.streams.video[0], "index_entries", None)  # PyAV >= 15
            if entries is None or len(entries) != header_count:
                return None
            return header_count - sum(1 for entry in entries if entry.is_discard)
    except Exception:  # any doubt: keep OpenCV's count (and correct it at the end of the stream)
        return None


class VideoFileSource(Source):
    """A video file decoded by OpenCV on a background thread (bounded queue of ``buffer`` frames).

    Frames come upright (the container's rotation applied) and ``width``/``height`` are the
    upright size. ``frame_count`` is the container's count of frames that decode (edit lists
    honoured); where only an estimate is known it becomes the frames seen when the stream ends.
    Frames that fail to decode in the middle of a file are skipped and counted in
    ``failed_frames``, and so are frames the index lists past where a cut-off file ends;
    decoding stops after ``max_consecutive_failures`` in a row.
    """

    def __init__(self, path: str | Path, buffer: int = 8, max_consecutive_failures: int = 25,
                 start_s: float = 0.0) -> None:
        """``start_s`` seeks before decoding starts (to the key frame at or before it, as OpenCV does)."""
        self.path = Path(path)
        _check_file(self.path, "video")
        if self.path.is_dir():
            raise FervisionError(f"{self.path} is a folder, not a video file.")
        self.name = self.path.stem
        with _opencv_quiet():
            self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise FervisionError(_unreadable_video(self.path, opened=False))
        try:
            self._first: VideoFrame | None = self._open(start_s)
        except BaseException:
            self._cap.release()
            raise
        self._max_failures = max_consecutive_failures
        self._queue: queue.Queue = queue.Queue(maxsize=buffer)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []  # the decode thread, once started
        # closed when dropped or at exit too: a decode thread still inside FFmpeg when Python ends
        # aborts the process ("terminate called without an active exception")
        self._finalizer = weakref.finalize(self, _stop_decoding, self._stop, self._queue, self._threads, self._cap)

    def _open(self, start_s: float) -> VideoFrame | None:
        """Read the stream's properties and its first frame (at ``start_s``), refusing what cannot be analysed."""
        self._rotate = self._upright()
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        exact = _indexed_frame_count(self.path, count) if count > 0 else None
        self._exact_count = exact is not None
        self.frame_count = exact if exact is not None else count if count > 0 else None
        self.duration_s = self.frame_count / self.fps if self.frame_count and self.fps else None
        self._first_index = 0
        if start_s > 0:
            self._cap.set(cv2.CAP_PROP_POS_MSEC, start_s * 1000.0)
            self._first_index = max(0, int(self._cap.get(cv2.CAP_PROP_POS_FRAMES)))
        first = self._read(self._first_index)
        if first is not None:
            self.height, self.width = first.image.shape[:2]
        elif start_s > 0:  # a seek to (or past) the end: no frames follow
            self.width, self.height = self._upright_size()
        else:
            raise FervisionError(_unreadable_video(self.path, opened=True))
        if min(self.width, self.height) < MIN_VIDEO_SIDE:
            raise FervisionError(f"{self.path} is {self.width}×{self.height} pixels, too small to analyse "
                                 f"(a video needs at least {MIN_VIDEO_SIDE}×{MIN_VIDEO_SIDE}).")
        return first

    def _upright(self) -> int | None:
        """The ``cv2.rotate`` code that makes frames upright, or ``None`` when OpenCV turns them
        itself (``CAP_PROP_ORIENTATION_AUTO``) or the container has no rotation."""
        if not hasattr(cv2, "CAP_PROP_ORIENTATION_META"):  # pragma: no cover - OpenCV < 4.5
            return None
        degrees = round(self._cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360  # clockwise, like the old "rotate" tag
        if degrees == 0:
            return None
        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        if self._cap.get(cv2.CAP_PROP_ORIENTATION_AUTO) == 1:
            return None
        return {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(degrees)

    def _upright_size(self) -> tuple[int, int]:
        """(width, height) from the stream's properties, turned as ``_read`` turns frames."""
        width, height = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        turned = self._rotate in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE)
        return (height, width) if turned else (width, height)

    def _read(self, index: int) -> VideoFrame | None:
        if not self._cap.grab():
            return None
        ok, image = self._cap.retrieve()
        if not ok or image is None:
            return None
        if self._rotate is not None:
            image = cv2.rotate(image, self._rotate)
        # The container's timestamp, not index / fps. Some containers (e.g. .mov edit lists) start slightly below zero.
        return VideoFrame(image, max(0.0, self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0), index)

    def _decode(self) -> None:
        frame: VideoFrame | None = self._first
        self._first = None
        index, pending = self._first_index, 0  # pending: failed reads not (yet) followed by a frame
        try:
            while not self._stop.is_set():
                if frame is None:
                    frame = self._read(index)
                    if frame is None:
                        pending += 1
                        if pending >= self._max_failures:  # the end of the stream, or of what decodes
                            self._at_end(index)
                            break
                        continue
                    self.failed_frames += pending  # frames were lost before this one
                    pending = 0
                index = frame.index + 1
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                frame = None
        finally:
            self._put_end()

    def _at_end(self, index: int) -> None:
        """Reads fail from here on. Frames the exact index lists beyond this point were lost (a
        file cut short or damaged at its end); otherwise this is the real end, and the frames seen
        are the honest count."""
        if index == self._first_index:  # nothing decoded after a seek: nothing known
            return
        seen = index + self.failed_frames
        if self._exact_count and self.frame_count is not None and seen < self.frame_count:
            self.failed_frames += self.frame_count - seen
        else:
            self.frame_count = seen

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
            self._threads.append(self._thread)
            self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            yield item

    def close(self) -> None:
        self._finalizer()


def _stop_decoding(stop: threading.Event, frames: queue.Queue, threads: list[threading.Thread],
                   cap: cv2.VideoCapture) -> None:
    """Stop a file's decode thread (emptying its queue so it is never stuck putting) and release the file."""
    stop.set()
    for thread in threads:
        while thread.is_alive():
            try:
                frames.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)
    cap.release()


class CameraSource(Source):
    """A webcam: a reader thread keeps only the newest frame, so processing never lags behind."""

    live = True

    def __init__(self, index: int, open_timeout_s: float = 5.0) -> None:
        self.name = f"camera{index}"
        with _opencv_quiet():
            self._cap = cv2.VideoCapture(index)
            opened = self._cap.isOpened()
            ok, first = self._cap.read() if opened else (False, None)
        if not opened:
            self._cap.release()
            raise FervisionError(f"Camera {index} does not exist or is busy.")
        if not ok or first is None:
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
        self._finalizer = weakref.finalize(self, _stop_camera, self._stop, self._thread, self._cap)

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
        self._finalizer()


def _stop_camera(stop: threading.Event, thread: threading.Thread, cap: cv2.VideoCapture) -> None:
    """Stop a camera's reader thread and release the camera (on close, when dropped, or at exit)."""
    stop.set()
    thread.join(timeout=2)
    cap.release()


class ImageSource(Source):
    """One image file or every image in a folder (sorted by name); ``time_s`` is the image's index."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_file(self.path, "image")
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not self.files:
                raise FervisionError(f"{self.path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
        else:
            self.files = [self.path]
        self.name = self.path.stem
        self.frame_count = len(self.files)

    def stem(self, index: int) -> str:
        """Frame ``index``'s file stem (for the names of annotated copies and face crops)."""
        return self.files[index].stem

    def __iter__(self) -> Iterator[VideoFrame]:
        for index, file in enumerate(self.files):
            try:
                image = _decode_image(file)
            except FervisionError:
                if len(self.files) == 1:
                    raise
                self.failed_frames += 1  # one unreadable or huge photo in a folder is skipped and counted
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
        with _opencv_quiet():
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
