"""Annotated-video writer: H.264 (libx264 through PyAV) so ordinary players and browsers
open it, encoded on a background thread fed by a bounded queue, with the source's audio
track copied across.

While it runs, the video goes to ``<name>.partial.mp4`` as *fragmented* MP4: a keyframe and a
self-contained fragment every 2 s, the source's audio interleaved as the video advances. So a
run killed outright (SIGKILL, power cut, full disk) leaves a file that plays, with sound, up to
its last fragment. ``close()`` copies it, packet for packet, into an ordinary MP4 with its index
first (``faststart``: browsers start playing while loading, and every tool knows the frame
count) under the final name, and removes the partial file.

Each frame keeps its source's time (on a 90 kHz clock, not rounded to whole frames), so a
variable-frame-rate source (phones, screen recordings) does not drift from its sound.

OpenCV's pip wheels can only write MPEG-4 Part 2; PyAV's wheels bundle FFmpeg with libx264.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from ..core.frame import FaceFrame
from ..errors import FervisionError
from .overlay import scaled
from .sink import SinkBase

_END = object()
FRAGMENTED = "frag_keyframe+empty_moov+default_base_moof"  # each fragment carries its own index
KEYFRAME_EVERY_S = 2.0  # a killed run loses at most about this much (1 s cost 36 % more bytes, 2 s 16 %)
FINE_TICKS_PER_S = 90_000  # the MPEG clock: a frame's time is kept to 11 µs


def time_base(rate: Fraction) -> Fraction:
    """The video's clock tick: fine enough (≥ 90 kHz) to keep each frame at its source time, so a
    variable-frame-rate source does not drift, and a whole fraction of a frame at ``rate``, so a
    constant-rate video keeps frames exactly ``1/rate`` apart and players show its rate."""
    ticks = rate.numerator * math.ceil(FINE_TICKS_PER_S / rate.numerator)  # a multiple of rate's numerator
    return Fraction(1, ticks)


class H264Writer:
    """``write(bgr, time_s)`` frames of one size; ``close()`` finishes the file and adds audio.

    The file is written under ``<name>.partial.mp4`` (fragmented, playable at any moment) and
    moved to its name when complete (see the module's docstring). ``close(complete=False)``
    (an interrupted run) ends the audio with the video instead of copying the source's to its end.
    Errors writing the file are raised as ``OSError`` (with the partial file's name), so a
    caller can tell a full disk from a bug.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], audio_from: str | Path | None = None,
                 crf: int = 23, buffer: int = 16, keyframe_every_s: float = KEYFRAME_EVERY_S) -> None:
        self.path = Path(path)
        self.partial = self.path.with_suffix(".partial" + self.path.suffix)
        self._finishing = self.path.with_name(f".{self.path.stem}.finishing{self.path.suffix}")
        self._finishing.unlink(missing_ok=True)  # left by a run killed while finishing
        self.audio_from = Path(audio_from) if audio_from else None
        width, height = size
        self.rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(25)
        self.time_base = time_base(self.rate)
        try:
            # flush_packets: each fragment reaches the file as it is finished, not 256 kB later
            self._container: Any = av.open(str(self.partial), mode="w",
                                           options={"movflags": FRAGMENTED, "flush_packets": "1"})
        except (av.FFmpegError, OSError) as exc:
            raise FervisionError(f"cannot write video {self.partial} ({exc}).") from None
        # The codec and the stream count time in fine ticks (the mp4 track's timescale follows), not
        # in frames at ``rate``: rounding to whole frames moved a variable-rate source's frames by up
        # to a frame's length and more.
        self._stream = self._container.add_stream("libx264", rate=self.rate, time_base=self.time_base)
        self._stream.width, self._stream.height = width - width % 2, height - height % 2
        self._stream.pix_fmt = "yuv420p"
        keyint = max(1, round(keyframe_every_s * float(self.rate)))
        self._stream.options = {"crf": str(crf), "preset": "veryfast", "g": str(keyint)}
        # Streams must all exist before the first packet is muxed, so the audio stream is
        # declared now; its packets follow the video's time as it is encoded.
        self._audio_in, self._audio_out = self._open_audio()
        self._audio_packets: Iterator[Any] | None = None
        self._audio_next: Any = None
        self._audio_start: tuple[Fraction, Fraction] | None = None  # the first sound packet's (pts, dts), in s
        self._queue: queue.Queue = queue.Queue(maxsize=buffer)
        self._first_pts: int | None = None
        self._last_pts = -1
        self._good_size = 0  # bytes of the partial file that end on a whole fragment
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._encode, name="fervision-encode", daemon=True)
        self._thread.start()

    # --- the encoding thread: the only one that touches the container until it is closed ---

    def _encode(self) -> None:
        complete = True
        try:
            while True:
                item = self._queue.get()
                if item[0] is _END:
                    complete = item[1]
                    break
                image, pts = item
                # OpenCV's BGR -> I420 (BT.601, limited range, as FFmpeg's default) is ~6x faster
                # than converting inside FFmpeg, and this thread shares the CPU with the pipeline.
                yuv = cv2.cvtColor(image[: self._stream.height, : self._stream.width], cv2.COLOR_BGR2YUV_I420)
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                frame.pts, frame.time_base = pts, self.time_base
                self._mux_video(self._stream.encode(frame))
            self._mux_video(self._stream.encode())
            end_s = float(self._last_pts * self.time_base + 1 / self.rate) if self._last_pts >= 0 else 0.0
            self._mux_audio_until(None if complete else end_s)
        except BaseException as exc:  # surfaced in write()/close()
            self._error = exc
        finally:
            self._close_audio()
            try:
                self._container.close()  # the last fragment and the fragment index
            except (av.FFmpegError, OSError) as exc:
                self._error = self._error or exc
            if self._error is not None and self._good_size:
                with contextlib.suppress(OSError):  # e.g. a full disk: drop the fragment it cut in half
                    os.truncate(self.partial, self._good_size)

    def _mux(self, packet: Any) -> None:
        self._container.mux(packet)
        # flush_packets: after each packet the file ends on a whole fragment; remember where
        self._good_size = os.stat(self.partial).st_size

    def _mux_video(self, packets: list[Any]) -> None:
        for packet in packets:
            self._mux(packet)
            if packet.dts is not None:
                self._mux_audio_until(float(packet.dts * packet.time_base))

    def _open_audio(self) -> tuple[Any, Any]:
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

    def _mux_audio_until(self, until_s: float | None) -> None:
        """Copy the source's first audio stream, packet for packet (no re-encoding), up to ``until_s``
        (``None``: to its end). Errors reading the source end the audio; errors writing are raised."""
        if self._audio_in is None:
            return
        if self._audio_packets is None:
            self._audio_packets = self._audio_in.demux(self._audio_in.streams.audio[0])
        while True:
            if self._audio_next is None:
                try:
                    packet = next(self._audio_packets, None)
                except (av.FFmpegError, ValueError):
                    packet = None  # keep the video even if part of the audio cannot be read
                if packet is None:
                    self._close_audio()
                    return
                if packet.dts is None or packet.pts is None:
                    continue
                self._audio_next = packet
            packet = self._audio_next
            if until_s is not None and packet.pts * packet.time_base > until_s:
                return
            self._audio_next = None
            if self._audio_start is None:
                self._audio_start = (packet.pts * packet.time_base, packet.dts * packet.time_base)
            packet.stream = self._audio_out
            self._mux(packet)

    def _close_audio(self) -> None:
        if self._audio_in is not None:
            self._audio_in.close()
            self._audio_in = None

    # --- the caller's side ---

    def _failure(self) -> Exception:
        error = self._error
        code = error.errno if isinstance(error, OSError) else None
        if code is not None and code in errno.errorcode:
            return OSError(code, os.strerror(code), str(self.partial))
        return FervisionError(f"video encoding failed ({error}).")

    def _put(self, item: tuple[Any, Any]) -> None:
        """Queue ``item`` for the encoder, without waiting forever on one that has stopped."""
        while True:
            if self._error is not None or not self._thread.is_alive():
                raise self._failure()
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def write(self, image_bgr: np.ndarray, time_s: float) -> None:
        if self._closed:
            raise FervisionError(f"video {self.path} is already closed.")
        pts = max(self._last_pts + 1, round(time_s / self.time_base))  # source timing, strictly increasing
        self._put((np.ascontiguousarray(image_bgr), pts))
        if self._first_pts is None:
            self._first_pts = pts
        self._last_pts = pts

    def close(self, complete: bool = True) -> Path:
        """Finish encoding, add audio, and move the file into place; returns its path.

        Closing twice does nothing the second time. An interrupt (Ctrl-C) arriving while it
        waits for the encoder is held back until the file is finished, then raised; one during
        the final copy leaves the (complete, fragmented) partial file under the final name."""
        if self._closed:
            return self.path
        self._closed = True
        interrupt: BaseException | None = None
        while self._error is None and self._thread.is_alive():
            try:
                self._put((_END, complete and interrupt is None))
                break
            except (OSError, FervisionError):
                break  # the encoder stopped on an error, reported below
            except KeyboardInterrupt as exc:  # the file is seconds from finished: finish it
                interrupt = exc
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as exc:  # the file is seconds from finished: finish it
                interrupt = exc
        if self._error is not None:
            raise self._failure()  # the partial file stays: it plays up to its last fragment
        if interrupt is not None:
            os.replace(self.partial, self.path)
            raise interrupt
        try:
            self._rewrite_with_index_first()
        except BaseException:
            self._finishing.unlink(missing_ok=True)
            os.replace(self.partial, self.path)  # complete and playable, only without the index first
            raise
        self.partial.unlink()
        return self.path

    def _rewrite_with_index_first(self) -> None:
        """The fragmented partial file, packet for packet, as an ordinary MP4 with its index first.

        A fragment cannot hold a decoding time before 0, so the partial file starts its pictures
        (and, to stay in sync, its sound) late by the encoder's reordering delay (two frames at a
        constant rate); here every packet moves back by that much (an ordinary MP4
        says so in its edit list), so each frame plays at its source's time. The fragment also moved
        the first sound packet to 0 (it has no edit list to say where the sound starts): it gets its
        source time back, or the decoder would drop the sound before the second packet."""
        with av.open(str(self.partial)) as src:
            inputs = [s for s in src.streams if s.type in ("video", "audio")]
            video = src.streams.video[0]
            late_s = Fraction(0)
            if video.start_time is not None and video.time_base is not None and self._first_pts is not None:
                late_s = video.start_time * video.time_base - self._first_pts * self.time_base
            dst: Any = av.open(str(self._finishing), mode="w", format="mp4", options={"movflags": "faststart"})
            try:
                outputs = {s.index: dst.add_stream_from_template(s) for s in inputs}
                audio_start = self._audio_start
                for packet in src.demux(*inputs):
                    if packet.dts is None or packet.time_base is None:
                        continue
                    if packet.stream.type == "audio" and audio_start is not None:
                        packet.pts, packet.dts = (round(t / packet.time_base) for t in audio_start)
                        audio_start = None
                    elif late_s:
                        back = round(late_s / packet.time_base)
                        packet.dts -= back
                        if packet.pts is not None:
                            packet.pts -= back
                    packet.stream = outputs[packet.stream.index]
                    dst.mux(packet)
            finally:
                dst.close()
        os.replace(self._finishing, self.path)

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(complete=not exc or exc[0] is None)


class AnnotatedVideoSink(SinkBase):
    """The annotated video: every frame (analysed or not) drawn with ``draw`` and encoded to H.264.

    ``time_origin`` is subtracted from frame times (a recording started mid-lesson starts at 0).
    ``max_side`` (pixels) shrinks larger frames before they are drawn on and encoded: H.264 at
    1080p costs the encoder 3-5x what 720p does, more than the analysis on 2 cores."""

    every_frame = True

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int],
                 draw: Callable[[np.ndarray, FaceFrame], np.ndarray], audio_from: str | Path | None = None,
                 time_origin: float = 0.0, max_side: int | None = None) -> None:
        self.draw, self.time_origin = draw, time_origin
        if max_side is not None and max_side < 64:
            raise FervisionError(f"The annotated video's longest side must be 64 pixels or more, not {max_side}.")
        self.scale = min(1.0, max_side / max(size)) if max_side else 1.0
        self.size = (max(2, round(size[0] * self.scale)), max(2, round(size[1] * self.scale)))
        self.writer = H264Writer(path, fps, self.size, audio_from=audio_from)
        self.path = self.writer.path

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        # drawn after shrinking, so labels keep the size the smaller frame calls for
        self.writer.write(self.draw(*scaled(image_bgr, faces, self.size)), faces.time_s - self.time_origin)

    def close(self, complete: bool = True) -> None:
        self.writer.close(complete=complete)

    def __exit__(self, *exc: object) -> None:
        """An interrupted run (an exception on the way out) ends the sound with the pictures."""
        self.close(complete=not exc or exc[0] is None)
