"""Annotated-video writer: H.264 (libx264 through PyAV) so ordinary players and browsers
open it, encoded on a background thread fed by a bounded queue, with the source's audio
track copied across.

OpenCV's pip wheels can only write MPEG-4 Part 2; PyAV's wheels bundle FFmpeg with libx264.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..core.frame import FaceFrame
from ..errors import FervisionError
from .sink import SinkBase

_END = object()


class H264Writer:
    """``write(bgr, time_s)`` frames of one size; ``close()`` finishes the file and adds audio.

    The file is written under a temporary name and renamed when complete, so a reader never
    sees a half-written video (an interrupted run leaves ``.partial.mp4`` behind).
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], audio_from: str | Path | None = None,
                 crf: int = 23, buffer: int = 16) -> None:
        self.path = Path(path)
        self.partial = self.path.with_suffix(".partial" + self.path.suffix)
        self.audio_from = Path(audio_from) if audio_from else None
        width, height = size
        self.rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(25)
        try:
            # faststart puts the index first: browsers can play while loading, and a cut-off
            # copy still decodes up to where it ends.
            self._container = av.open(str(self.partial), mode="w", options={"movflags": "faststart"})
        except (av.FFmpegError, OSError) as exc:
            raise FervisionError(f"cannot write video {self.partial} ({exc}).") from None
        self._stream = self._container.add_stream("libx264", rate=self.rate)
        self._stream.width, self._stream.height = width - width % 2, height - height % 2
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        self._stream.time_base = 1 / self.rate
        # Streams must all exist before the first packet is muxed, so the audio stream is
        # declared now and filled at close().
        self._audio_in, self._audio_out = self._open_audio()
        self._queue: queue.Queue = queue.Queue(maxsize=buffer)
        self._last_pts = -1
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="fervision-encode", daemon=True)
        self._thread.start()

    def _encode(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    break
                image, pts = item
                # OpenCV's BGR -> I420 (BT.601, limited range, as FFmpeg's default) is ~6x faster
                # than converting inside FFmpeg, and this thread shares the CPU with the pipeline.
                yuv = cv2.cvtColor(image[: self._stream.height, : self._stream.width], cv2.COLOR_BGR2YUV_I420)
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                frame.pts = pts
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
            for packet in self._stream.encode():
                self._container.mux(packet)
        except BaseException as exc:  # surfaced in write()/close()
            self._error = exc

    def write(self, image_bgr: np.ndarray, time_s: float) -> None:
        if self._error is not None:
            raise FervisionError(f"video encoding failed ({self._error}).")
        pts = max(self._last_pts + 1, round(time_s * self.rate))  # source timing, strictly increasing
        self._last_pts = pts
        self._queue.put((np.ascontiguousarray(image_bgr), pts))

    def _open_audio(self):
        if self.audio_from is None:
            return None, None
        try:
            source = av.open(str(self.audio_from))
        except (av.FFmpegError, OSError):
            return None, None
        if not source.streams.audio:
            source.close()
            return None, None
        try:
            return source, self._container.add_stream_from_template(source.streams.audio[0])
        except (av.FFmpegError, ValueError):  # a codec mp4 cannot hold: no audio, but the video still works
            source.close()
            return None, None

    def _copy_audio(self) -> None:
        """Copy the source's first audio stream, packet for packet (no re-encoding)."""
        if self._audio_in is None:
            return
        try:
            for packet in self._audio_in.demux(self._audio_in.streams.audio[0]):
                if packet.dts is None:
                    continue
                packet.stream = self._audio_out
                self._container.mux(packet)
        except (av.FFmpegError, ValueError):
            pass  # keep the video even if part of the audio cannot be copied
        finally:
            self._audio_in.close()
            self._audio_in = None

    def close(self) -> Path:
        """Finish encoding, add audio, and move the file into place; returns its path."""
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        if self._container is None:
            return self.path
        try:
            if self._error is None:
                self._copy_audio()
        finally:
            self._container.close()
            self._container = None  # type: ignore[assignment]  # closed: later calls return at once
        if self._error is not None:
            raise FervisionError(f"video encoding failed ({self._error}).")
        os.replace(self.partial, self.path)
        return self.path

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AnnotatedVideoSink(SinkBase):
    """The annotated video: every frame (analysed or not) drawn with ``draw`` and encoded to H.264.

    ``time_origin`` is subtracted from frame times (a recording started mid-lesson starts at 0)."""

    every_frame = True

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int],
                 draw: Callable[[np.ndarray, FaceFrame], np.ndarray], audio_from: str | Path | None = None,
                 time_origin: float = 0.0) -> None:
        self.draw, self.time_origin = draw, time_origin
        self.writer = H264Writer(path, fps, size, audio_from=audio_from)
        self.path = self.writer.path

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        self.writer.write(self.draw(image_bgr, faces), faces.time_s - self.time_origin)

    def close(self) -> None:
        self.writer.close()
