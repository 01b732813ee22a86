"""The processing thread: opens sources, runs the pipeline, draws overlays, records and exports.

The UI thread only sends commands (a queue) and receives signals, so the window never waits
for a model to load, a frame to decode or a file to be written. Files play at their own
pace times the chosen speed; when the pipeline cannot keep up, late frames are skipped (the
labels stay current), unless the user asks for every frame to be analysed.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from ..analysis.run_settings import front_rule, run_settings
from ..analysis.session import AnalysisSession
from ..core.frame import FaceFrame
from ..engine.config import PipelineConfig, build_pipeline, build_recognizer
from ..engine.sources import CameraSource, ImageSource, Source, VideoFileSource, VideoFrame, open_source
from ..errors import FervisionError
from ..outputs.face_crops import FaceCropSink
from ..outputs.overlay import blur_boxes, draw_faces, scaled
from ..outputs.sink import Sink, SinkBase
from ..outputs.video import AnnotatedVideoSink

if TYPE_CHECKING:
    from ..recognizer import ExpressionRecognizer


@dataclass(frozen=True)
class SourceInfo:
    spec: str
    name: str
    kind: str  # "video", "camera" or "images"
    duration_s: float | None
    fps: float | None


@dataclass(frozen=True)
class FramePacket:
    """One shown frame: the annotated image and what the status bar reports about it."""

    image: QImage
    faces: FaceFrame
    time_s: float
    processing_s: float  # pipeline + drawing for this frame
    recognise_s: float | None  # the recognition batch's time; None: no batch ran (or the first after a model load)
    skipped: int  # frames skipped since the previous packet to keep real time
    device: str


def to_qimage(image_bgr: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (the array may be reused after this returns)."""
    image = np.ascontiguousarray(image_bgr)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888).copy()


def fit_size(image_size: tuple[int, int], area: tuple[int, int]) -> tuple[int, int]:
    """The largest (width, height) of the image's shape that fits ``area`` (up or down)."""
    (iw, ih), (aw, ah) = image_size, area
    scale = min(aw / iw, ah / ih)
    return max(1, round(iw * scale)), max(1, round(ih * scale))


def _describe(exc: BaseException) -> str:
    """One sentence for the message bar: our own errors as they are, a system error (a full disk,
    a folder without permission) as the system's words and the file, never ``OSError: [Errno 28] …``."""
    if isinstance(exc, FervisionError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})." if exc.filename else f"{exc.strerror}."
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return f"{type(exc).__name__}: {exc}"


MAX_SKIPPING_S = 0.5
"""However late playback runs, a frame is analysed at least this often (wall time): where even
skipping frames cannot keep up (a recording at 4x on a busy machine), labels still move on."""
POSITION_EVERY_S = 0.2
"""Frames skipped to keep real time move the seek bar this often (at 4x speed, 20 times a second)."""


class StudentFaces(SinkBase):
    """Face crops (Save faces: a training set, not a record) after ``edit``, the user's roster: no
    crops of someone hidden, a merged id saved as the one it joined."""

    def __init__(self, sink: FaceCropSink, edit: Callable[[FaceFrame], FaceFrame] = lambda faces: faces) -> None:
        self.sink, self.edit = sink, edit

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        self.sink.write(self.edit(faces), image_bgr)

    def close(self) -> None:
        self.sink.close()


def _shifted(frames: Iterable[VideoFrame], offset_s: float) -> Iterator[VideoFrame]:
    """The frames with ``offset_s`` added to their times."""
    for frame in frames:
        yield VideoFrame(frame.image, frame.time_s + offset_s, frame.index)


class AnalysisWorker(QThread):
    frame_ready = Signal(object)  # FramePacket
    busy = Signal(str)  # what is being loaded ("" when done)
    error = Signal(str)  # one sentence for the message bar
    info = Signal(str)
    source_opened = Signal(object)  # SourceInfo
    source_ended = Signal()
    position = Signal(float)  # the time of a frame skipped to keep real time (the view keeps the last one)
    playing_changed = Signal(bool)
    recording_changed = Signal(bool)
    saving_faces_changed = Signal(bool)
    exported = Signal(object)  # dict[str, Path]
    model_loaded = Signal(object)  # PipelineConfig now in use

    def __init__(self, config: PipelineConfig, keep_real_time: bool = True) -> None:
        super().__init__()
        self.config = config
        self.keep_real_time = keep_real_time
        self.speed = 1.0
        self.blur = False
        self.highlight: int | None = None
        self.session: AnalysisSession | None = None
        self._commands: queue.Queue[tuple[str, tuple[Any, ...]]] = queue.Queue()
        self._recognizer: ExpressionRecognizer | None = None
        self._source: Source | None = None
        self._info: SourceInfo | None = None
        self._frames: Iterator[VideoFrame] | None = None
        self._pending: VideoFrame | None = None
        self._playing = False
        self._step = False  # analyse one frame while paused (after a seek)
        self._clock: tuple[float, float] | None = None  # (wall time, media time) of the pacing origin
        self._skipped = 0
        self._last: tuple[VideoFrame, FaceFrame] | None = None
        self._recording: AnnotatedVideoSink | None = None
        self._face_crops: StudentFaces | None = None
        self._warm = False  # the recogniser has read a batch since it was loaded
        self._position_s = -1.0  # the last time sent by ``position``
        self._analysed_at = 0.0  # perf_counter() when the last frame was analysed
        self._view_size: tuple[int, int] | None = None  # the view's size in device pixels, once known
        # the last view image: (faces, image, size, drawn, faces as drawn)
        self._drawn: tuple[FaceFrame, np.ndarray, tuple[int, int], np.ndarray, FaceFrame] | None = None
        self._dirty = False  # the overlay settings changed since the last frame was drawn
        self._quit = False

    # -- commands (any thread) ------------------------------------------------------------
    def send(self, name: str, *args: Any) -> None:
        self._commands.put((name, args))

    def open(self, spec: str) -> None:
        self.send("open", spec)

    def play(self) -> None:
        self.send("play")

    def pause(self) -> None:
        self.send("pause")

    def seek(self, time_s: float) -> None:
        self.send("seek", time_s)

    def set_speed(self, speed: float) -> None:
        self.send("speed", speed)

    def set_config(self, config: PipelineConfig) -> None:
        self.send("config", config)

    def set_blur(self, blur: bool) -> None:
        self.send("blur", blur)

    def set_highlight(self, student_id: int | None) -> None:
        self.send("highlight", student_id)

    def set_keep_real_time(self, keep: bool) -> None:
        self.send("keep_real_time", keep)

    def redraw(self) -> None:
        self.send("redraw")

    def set_view_size(self, width: int, height: int) -> None:
        """The view's size in device pixels: frames are scaled to it before the overlay is drawn."""
        self.send("view_size", (int(width), int(height)))

    def start_recording(self, path: str | Path) -> None:
        self.send("record", Path(path))

    def stop_recording(self) -> None:
        self.send("stop_record")

    def start_saving_faces(self, folder: str | Path) -> None:
        """Save student face crops, sorted by expression, into ``folder/<source>_face_crops/`` (only when asked)."""
        self.send("save_faces", Path(folder))

    def stop_saving_faces(self) -> None:
        self.send("stop_save_faces")

    def export(self, folder: str | Path) -> None:
        self.send("export", Path(folder))

    def stop(self) -> None:
        self.send("quit")

    # -- the loop (worker thread) ---------------------------------------------------------
    def run(self) -> None:
        self._load(self.config)
        while not self._quit:
            self._handle_commands(timeout=None if self._active() else 0.1)
            if self._dirty and not self._active():
                self._render_last()
            if self._quit or not self._active():
                continue
            frame = self._pending or self._next_frame()
            if frame is None:
                continue
            wait = self._due_in(frame)
            if wait > 0.002 and not self._step:
                self._pending = frame
                self._handle_commands(timeout=min(wait, 0.05))
                continue
            self._pending = None
            starved = time.perf_counter() - self._analysed_at > MAX_SKIPPING_S
            if (self.keep_real_time and not self._step and self._info and self._info.kind == "video"
                    and wait < -0.1 and not starved):
                self._skipped += 1  # late: skip analysis to catch up with the clock
                self._hold(frame)
                continue
            self._step = False
            try:
                self._analyse(frame)
            except Exception as exc:
                self._set_playing(False)
                self.error.emit(f"Analysis stopped at {frame.time_s:.1f} s: {_describe(exc)}")
        self._close_source()
        self._finish_recording()
        self._finish_saving_faces()
        if self.session is not None:
            self.session.close()

    def _active(self) -> bool:
        """Frames are still to come (playing, or one frame to show after a seek)."""
        return self._frames is not None and (self._playing or self._step)

    def _handle_commands(self, timeout: float | None) -> None:
        try:
            command = self._commands.get(timeout=timeout) if timeout else self._commands.get_nowait()
        except queue.Empty:
            return
        while True:
            name, args = command
            try:
                getattr(self, f"_cmd_{name}")(*args)
            except Exception as exc:
                self.error.emit(_describe(exc))
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return

    def _next_frame(self) -> VideoFrame | None:
        assert self._frames is not None, "run() asks for a frame only while _active()"
        try:
            return next(self._frames)
        except StopIteration:
            failed = self._source.failed_frames if self._source else 0
            self._frames = None
            self._set_playing(False)
            self._step = False
            if failed:
                self.info.emit(f"{failed} frame(s) could not be decoded and were skipped.")
            self.source_ended.emit()
            return None
        except FervisionError as exc:
            self._frames = None
            self._set_playing(False)
            self.error.emit(str(exc))
            return None

    def _due_in(self, frame: VideoFrame) -> float:
        """Seconds until ``frame`` is due on screen (negative: late). Live sources are always due."""
        if self._info is None or self._info.kind == "camera":
            return 0.0
        now = time.perf_counter()
        if self._clock is None:
            self._clock = (now, frame.time_s)
        wall0, media0 = self._clock
        return wall0 + (frame.time_s - media0) / self.speed - now

    def _analyse(self, frame: VideoFrame) -> None:
        """Analyse one frame: the session's frame loop writes it to every sink (the record, the
        spooled faces table, and a recording or face crops when they are on), then it is shown."""
        assert self.session is not None
        t0 = self._analysed_at = time.perf_counter()
        pipeline = self.session.pipeline
        before, batches = pipeline.timings["recognise"], pipeline.counts["recognition batches"]
        faces = self.session.process(frame)
        recognise_s: float | None = None
        if pipeline.counts["recognition batches"] > batches:
            # the first batch of a new model also pays for its warm-up (seconds): not a reading's cost
            recognise_s = pipeline.timings["recognise"] - before if self._warm else None
            self._warm = True
        self._last, self._dirty = (frame, faces), False
        image, shown = self._draw_view(frame.image, faces)
        packet = FramePacket(to_qimage(image), shown, frame.time_s, time.perf_counter() - t0, recognise_s,
                             self._skipped, str(self.session.pipeline.recognizer.device))
        self._skipped = 0
        self.frame_ready.emit(packet)

    def _hold(self, frame: VideoFrame) -> None:
        """A skipped frame still counts as time in view and goes into a recording, with the last overlay."""
        if self.session is None:
            return
        try:
            self.session.hold(frame)
            if abs(frame.time_s - self._position_s) >= POSITION_EVERY_S:  # the seek bar moves in 0.1 s steps
                self._position_s = frame.time_s
                self.position.emit(frame.time_s)
        except Exception as exc:
            self._set_playing(False)
            self.error.emit(f"Analysis stopped at {frame.time_s:.1f} s: {_describe(exc)}")

    def _edited(self, faces: FaceFrame) -> FaceFrame:
        """The faces as the user edited the roster: merged ids as the one they joined, hidden ones gone."""
        return self.session.edited(faces) if self.session is not None else faces

    def _draw_recording(self, image: np.ndarray, faces: FaceFrame) -> np.ndarray:
        """A recording's frame: at the source's size, with the roster as the user edited it."""
        return self._draw(image, faces)[0]

    def _draw(self, image: np.ndarray, faces: FaceFrame) -> tuple[np.ndarray, FaceFrame]:
        """The overlay as the user set it, on ``image`` at its own size (a recording: the source's),
        and the faces drawn: the roster as edited. Blur covers the faces the user hid too."""
        session = self.session
        names = session.names() if session else {}
        signals = session.pipeline.signals if session else []
        shown = self._edited(faces)
        if self.blur and len(shown) < len(faces):
            image = blur_boxes(image, [box for box in faces.xyxy if not (shown.xyxy == box).all(axis=1).any()])
        return draw_faces(image, shown, signals, blur=self.blur, names=names, highlight=self.highlight), shown

    def _draw_view(self, image: np.ndarray, faces: FaceFrame) -> tuple[np.ndarray, FaceFrame]:
        """The frame for the view and the faces drawn on it (the roster as edited): scaled to the
        size it is shown at, then drawn on, so labels are as large on screen as drawn (a 1080p
        frame drawn at its own size would show them at half)."""
        h, w = image.shape[:2]
        size = fit_size((w, h), self._view_size) if self._view_size else (w, h)
        last = self._drawn
        if last is not None and last[0] is faces and last[1] is image and last[2] == size:
            return last[3], last[4]
        drawn, _ = self._draw(*scaled(image, faces, size))
        shown = self._edited(faces)  # (in the frame's own coordinates, as every FaceFrame)
        self._drawn = (faces, image, size, drawn, shown)
        return drawn, shown

    def _sink_failed(self, sink: Sink, exc: Exception) -> None:
        """A recording or face crops failed (e.g. a full disk): say so, stop that output, keep analysing."""
        if sink is self._recording:
            self._recording = None
            self.error.emit(f"Recording stopped: {_describe(exc)}")
            self.recording_changed.emit(False)
        elif sink is self._face_crops:
            self._face_crops = None
            self.error.emit(f"Saving faces stopped: {_describe(exc)}")
            self.saving_faces_changed.emit(False)
        else:
            self.error.emit(f"An output stopped: {_describe(exc)}")

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)
        self._clock = None

    # -- command handlers ------------------------------------------------------------------
    def _load(self, config: PipelineConfig) -> bool:
        """(Re)load the recogniser when the model or device changed; rebuild the pipeline."""
        needs_model = (self._recognizer is None or config.model != self.config.model
                       or config.device != self.config.device)
        if needs_model:
            self.busy.emit(f"Loading model {config.model} on {config.device}…")
        try:
            recognizer = build_recognizer(config) if needs_model else self._recognizer
            pipeline = build_pipeline(config, still=self._is_still(), recognizer=recognizer)
        except Exception as exc:
            self.error.emit(_describe(exc))
            return False
        finally:
            self.busy.emit("")
        self._recognizer, self.config = recognizer, config
        if needs_model:
            self._warm = False
        if self.session is not None and self.session.use_pipeline(pipeline):
            self.info.emit("The new model reads other emotions: the session's record starts afresh.")
        self.model_loaded.emit(config)
        return True

    def _is_still(self) -> bool:
        return self._info is not None and self._info.kind == "images"

    def _cmd_config(self, config: PipelineConfig) -> None:
        """A new model or detector. A photo on screen is read again with it (a video reads the next
        frames with it; a photo has no next frame)."""
        if not self._load(config):
            return
        if self._is_still() and self._last is not None and self.session is not None and not self._playing:
            frame = self._last[0]
            self.session.jumped(replay=True)  # what the photo held is replaced, its students kept
            self._analyse(frame)
        else:
            self._cmd_redraw()

    def _cmd_open(self, spec: str) -> None:
        if self._recognizer is None and not self._load(self.config):
            return
        source = open_source(spec)
        self._close_source()
        self._finish_recording()
        self._finish_saving_faces()
        kind = ("camera" if isinstance(source, CameraSource)
                else "images" if isinstance(source, ImageSource) else "video")
        duration = source.duration_s if isinstance(source, VideoFileSource) else None
        self._source, self._frames = source, iter(source)
        self._info = SourceInfo(str(spec), source.name, kind, duration, source.fps)
        pipeline = build_pipeline(self.config, still=kind == "images", recognizer=self._recognizer)
        if self.session is not None:
            self.session.close()
        self.session = AnalysisSession(pipeline, name=source.name)
        self.session.loop.on_sink_error = self._sink_failed
        self._last, self._pending = None, None
        self.highlight = None  # the student selected in the last source is nobody here
        self.source_opened.emit(self._info)
        self._set_playing(True)

    def _cmd_play(self) -> None:
        if self._info is None:
            return
        if self._frames is None:  # ended or stopped: start again (files from the top, cameras anew)
            self._reopen(0.0)
        self._set_playing(True)

    def _cmd_pause(self) -> None:
        if self._info is not None and self._info.kind == "camera":
            self._close_source()  # a paused webcam is released, so other apps can use it
        self._set_playing(False)

    def _cmd_seek(self, time_s: float) -> None:
        if self._info is None or self._info.kind != "video":
            return
        self._reopen(max(0.0, time_s))
        self._step = not self._playing  # show where we are even while paused

    def _reopen(self, start_s: float) -> None:
        """Reopen the current source (a seek, a replay, a camera started again) keeping the session:
        students are re-found where they sit, with their ids and names."""
        assert self._info is not None and self.session is not None
        if self._source is not None:
            self._source.close()
        spec = self._info.spec
        if self._info.kind == "camera":
            # a camera's clock starts at 0 when it opens: its time goes on from where it stopped
            camera = CameraSource(int(spec))
            offset = self._last[0].time_s + 1.0 / (camera.fps or 25.0) if self._last else 0.0
            self._source, self._frames = camera, _shifted(camera, offset)
            self.session.jumped(replay=False)
        else:
            source = VideoFileSource(spec, start_s=start_s) if self._info.kind == "video" else ImageSource(spec)
            self._source, self._frames = source, iter(source)
            self.session.jumped(replay=True)
        self._pending = None
        self._clock = None

    def _cmd_speed(self, speed: float) -> None:
        self.speed = max(0.05, float(speed))
        self._clock = None

    def _cmd_keep_real_time(self, keep: bool) -> None:
        self.keep_real_time = bool(keep)
        self._clock = None

    def _cmd_blur(self, blur: bool) -> None:
        self.blur = bool(blur)
        self._cmd_redraw()

    def _cmd_highlight(self, student_id: int | None) -> None:
        self.highlight = student_id
        self._cmd_redraw()

    def _cmd_view_size(self, size: tuple[int, int]) -> None:
        width, height = size
        if width >= 16 and height >= 16 and size != self._view_size:  # (a collapsed view: keep the last size)
            self._view_size = size
            self._dirty = True

    def _cmd_redraw(self) -> None:
        """Blur, names or the highlight changed: the next frame shows it, or, when no frame is
        coming (paused, ended), the last one is drawn again."""
        self._dirty = True

    def _render_last(self) -> None:
        self._dirty = False
        if self._last is None:
            return
        frame, faces = self._last
        device = str(self.session.pipeline.recognizer.device) if self.session else ""
        self._drawn = None  # the overlay settings or the roster changed
        image, shown = self._draw_view(frame.image, faces)
        self.frame_ready.emit(FramePacket(to_qimage(image), shown, frame.time_s, 0.0, None, 0, device))

    def _cmd_record(self, path: Path) -> None:
        if self._last is None or self._info is None or self.session is None:
            raise FervisionError("Open a video or camera before recording.")
        self._finish_recording()
        frame, _ = self._last
        h, w = frame.image.shape[:2]
        self._recording = AnnotatedVideoSink(path, self._info.fps or 25.0, (w, h), self._draw_recording,
                                             time_origin=frame.time_s)
        self.session.add_sink(self._recording)
        self.recording_changed.emit(True)

    def _cmd_stop_record(self) -> None:
        self._finish_recording()

    def _finish_recording(self) -> None:
        if self._recording is None or self.session is None:
            return
        sink, self._recording = self._recording, None
        try:
            self.session.remove_sink(sink)
            self.info.emit(f"Recording saved to {sink.path}.")
        except FervisionError as exc:
            self.error.emit(str(exc))
        self.recording_changed.emit(False)

    def _cmd_save_faces(self, folder: Path) -> None:
        if self.session is None or self._info is None:
            raise FervisionError("Open a video, camera or images before saving faces.")
        self._finish_saving_faces()
        margin = self.session.pipeline.recognizer.meta.preprocessing.crop_margin
        source = self._source
        still_names = source.stem if isinstance(source, ImageSource) else None
        self._face_crops = StudentFaces(FaceCropSink(folder / f"{self._info.name}_face_crops", self._info.name,
                                                     margin, still_names=still_names), self._edited)
        self.session.add_sink(self._face_crops)
        self.saving_faces_changed.emit(True)

    def _cmd_stop_save_faces(self) -> None:
        self._finish_saving_faces()

    def _finish_saving_faces(self) -> None:
        if self._face_crops is None or self.session is None:
            return
        sink, self._face_crops = self._face_crops, None
        self.session.remove_sink(sink)
        crops = sink.sink
        self.info.emit(f"Saved {crops.saved} face(s) into {crops.folder}, one folder per expression: move the wrong "
                       "ones, then fine-tune with `fervision train --init default --dataset folder`.")
        self.saving_faces_changed.emit(False)

    def _cmd_export(self, folder: Path) -> None:
        if self.session is None or not self.session.record.frames:
            raise FervisionError("Nothing to export yet: open a video or camera first.")
        self.busy.emit(f"Exporting to {folder}…")
        try:
            paths = self.session.export(folder, settings=self._run_settings(), front_rule=front_rule(self.config))
        except OSError as exc:
            raise FervisionError(f"cannot export to {folder} ({exc.strerror or exc}).") from None
        finally:
            self.busy.emit("")
        self.exported.emit(paths)

    def _run_settings(self) -> list[tuple[str, str]]:
        """What the lesson report says this session was analysed with."""
        assert self.session is not None
        skipping = self.keep_real_time and self._info is not None and self._info.kind != "images"
        analysed = "frames skipped when needed to keep real time" if skipping else "every frame"
        name = self._info.name if self._info is not None else self.session.name
        return run_settings(name, self.config, self.session.pipeline, analysed, self.blur)

    def _cmd_quit(self) -> None:
        self._quit = True

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
        self._source, self._frames, self._pending = None, None, None
