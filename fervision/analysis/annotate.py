"""``fervision annotate``: run the whole road over a video, camera or images and write every output.

For ``lesson.mp4`` it writes ``lesson_annotated.mp4`` (H.264, source audio kept),
``lesson_faces.csv``, ``lesson_students.csv``, ``lesson_class.csv`` and
``lesson_timeline.png`` into the output folder; image inputs get ``*_annotated.jpg`` files
instead of a video. Face crops (``lesson_face_crops/``) only when asked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tqdm import tqdm

from ..engine.config import PipelineConfig, build_pipeline
from ..engine.sources import ImageSource, Source, VideoFileSource, VideoFrame, open_source
from ..errors import FervisionError
from ..outputs import VIDEO_MAX_SIDE
from ..outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink
from ..outputs.face_crops import FaceCropSink
from ..outputs.images import AnnotatedImagesSink
from ..outputs.overlay import draw_faces
from ..outputs.record import EVERY_FACE, LessonRecord
from ..outputs.report import ReportSink
from ..outputs.sink import Sink
from ..outputs.timeline import TimelineSink
from ..outputs.video import AnnotatedVideoSink
from .loop import FrameLoop, run
from .run_settings import front_rule, run_settings


@dataclass
class AnnotateResult:
    outputs: dict[str, Path] = field(default_factory=dict)
    frames: int = 0
    processed: int = 0
    failed_frames: int = 0
    students: int = 0  # counted students
    not_counted: int = 0  # ids the roster rules left out (walking past, seen briefly)
    duration_s: float = 0.0  # time of the last frame read
    class_shares: dict[str, float] = field(default_factory=dict)  # each emotion's share over the lesson
    facing_front_share: float = float("nan")  # NaN without head pose


def prepare_output_dir(output: str | Path | None, source_spec: str) -> Path:
    """The output folder (default: next to the input), created and checked for writing."""
    if output is not None:
        folder = Path(output)
    elif str(source_spec).isdigit():
        folder = Path.cwd()
    else:
        folder = Path(source_spec).resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FervisionError(f"cannot create output folder {folder} ({exc.strerror}).") from None
    if not os.access(folder, os.W_OK):
        raise FervisionError(f"output folder {folder} is not writable.")
    return folder


def annotate(source_spec: str, config: PipelineConfig | None = None, output: str | Path | None = None, *,
             stride: int = 1, blur_faces: bool = False, save_faces_every: float | None = None,
             progress: bool = True, video_max_side: int | None = VIDEO_MAX_SIDE) -> AnnotateResult:
    """Annotate a source with the pipeline ``config`` describes; returns what was written.

    ``stride`` analyses every N-th frame (the video keeps every frame, the overlay held);
    ``save_faces_every`` (seconds) also saves student face crops, sorted by expression, into
    ``<output>/<stem>_face_crops/`` (see :class:`~fervision.outputs.face_crops.FaceCropSink`);
    ``video_max_side`` (pixels; None or 0: the source's size) shrinks a larger annotated video.
    Interrupting keeps every finished frame: each sink is closed on the way out. A run already
    writing this source's outputs into the same folder is refused; a full disk, or an output
    name taken by a folder, ends in a :class:`FervisionError` saying what was saved."""
    if stride < 1:
        raise FervisionError("--stride must be 1 or more.")
    if save_faces_every is not None and save_faces_every < 0:
        raise FervisionError("--save-faces takes a number of seconds, 0 or more.")
    if video_max_side is not None and video_max_side != 0 and video_max_side < 64:
        raise FervisionError("--video-max-side takes 64 pixels or more (0: the source's size).")
    source = open_source(source_spec)
    with source:
        folder = prepare_output_dir(output, source_spec)
        saved = _Saved(folder)
        try:
            with OutputLock(folder, source.name):
                return _annotate(source, folder, config, saved, stride=stride, blur_faces=blur_faces,
                                 save_faces_every=save_faces_every, progress=progress,
                                 video_max_side=video_max_side or None)
        except OSError as exc:
            raise saved.explain(exc) from None


def _annotate(source: Source, folder: Path, config: PipelineConfig | None, saved: _Saved, *, stride: int,
              blur_faces: bool, save_faces_every: float | None, progress: bool,
              video_max_side: int | None) -> AnnotateResult:
    stem = source.name
    paths = {kind: folder / f"{stem}_{kind}.csv" for kind in ("faces", "students", "class")}
    timeline = folder / f"{stem}_timeline.png"
    report = folder / f"{stem}_report.html"
    video = folder / f"{stem}_annotated.mp4"
    for path in [*paths.values(), timeline, report, *((video, video.with_suffix(".partial.mp4"))
                                             if isinstance(source, VideoFileSource) else ())]:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    still = isinstance(source, ImageSource)
    config = config or PipelineConfig()
    pipeline = build_pipeline(config, still=still)
    record = LessonRecord(pipeline.labels, EVERY_FACE if still else None)
    analysed = "every frame" if stride == 1 else f"every {stride}th frame"
    draw = partial(draw_faces, signals=pipeline.signals, blur=blur_faces)
    with contextlib.ExitStack() as stack:
        sinks: list[Sink] = [record]
        sinks.append(stack.enter_context(TimelineSink(timeline, record,
                                                      title=f"{stem}: class emotion distribution")))
        sinks.append(stack.enter_context(ReportSink(report, record, title=stem,
                                                    settings=run_settings(source.name, config, pipeline, analysed,
                                                                          blur_faces),
                                                    metrics=pipeline.recognizer.meta.metrics,
                                                    front_rule=front_rule(config))))
        sinks += [stack.enter_context(FacesCsvSink(paths["faces"], pipeline.signals)),
                  stack.enter_context(ClassCsvSink(paths["class"], record)),
                  stack.enter_context(StudentsCsvSink(paths["students"], record))]
        if save_faces_every is not None:
            paths["face_crops"] = folder / f"{stem}_face_crops"
            photos = source.stem if isinstance(source, ImageSource) else None
            sinks.append(stack.enter_context(FaceCropSink(
                paths["face_crops"], stem, pipeline.recognizer.meta.preprocessing.crop_margin,
                every_s=save_faces_every, still_names=photos)))
        if isinstance(source, VideoFileSource):
            paths["video"] = video
            sinks.append(stack.enter_context(AnnotatedVideoSink(video, source.fps or 25.0,
                                                                (source.width, source.height), draw,
                                                                audio_from=source.path,
                                                                max_side=video_max_side)))
        elif isinstance(source, ImageSource):
            paths["images"] = folder
            sinks.append(AnnotatedImagesSink(folder, source.stem, draw))
        bar = stack.enter_context(tqdm(total=source.frame_count, unit="frame", desc=stem, disable=not progress,
                                       mininterval=0.5 if sys.stderr.isatty() else 10.0))

        def on_frame(frame: VideoFrame, faces: object) -> None:
            saved.until_s = frame.time_s  # every sink has it
            bar.update(1)

        stats = run(source, FrameLoop(pipeline, sinks), stride=stride, on_frame=on_frame)
    paths["timeline"] = timeline
    paths["report"] = report
    shares, facing = record.lesson_shares()
    return AnnotateResult(outputs=paths, frames=stats.frames, processed=stats.processed,
                          failed_frames=source.failed_frames, students=len(record.counted_ids()),
                          not_counted=len(record.student_ids()) - len(record.counted_ids()),
                          duration_s=saved.until_s or 0.0,
                          class_shares=dict(zip(record.labels, shares.tolist(), strict=True)),
                          facing_front_share=facing)


@dataclass
class _Saved:
    """How far a run got, to say what was saved when writing fails."""

    folder: Path
    until_s: float | None = None

    def explain(self, exc: OSError) -> Exception:
        """One sentence for an error writing the outputs; other errors are returned unchanged."""
        chain: list[OSError] = []
        error: BaseException | None = exc
        while error is not None and len(chain) < 20:  # closing sinks on a full disk fail in turn
            if isinstance(error, OSError):
                chain.append(error)
            error = error.__context__
        if self.until_s is None:
            kept = "no frame was finished"
        else:
            kept = f"finished frames up to {self.until_s:.1f} s are saved in {self.folder}"
        if any(e.errno in _DISK_FULL for e in chain):
            return FervisionError(f"the disk is full: {kept}; free some space and run again.")
        name = exc.filename2 or exc.filename
        if isinstance(exc, IsADirectoryError) and name:
            return FervisionError(f"{name} is a folder, so the output of that name cannot be written; "
                                  f"move the folder away or choose another --output.")
        if name and self.folder.resolve() in Path(os.path.abspath(name)).resolve().parents:
            return FervisionError(f"cannot write {name} ({exc.strerror}); {kept}.")
        return exc


_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class OutputLock:
    """Holds ``<folder>/.<stem>.lock`` while a run writes ``<stem>``'s outputs there, so a second run
    into the same folder is refused instead of tearing the first one's rows and video.

    The lock is the operating system's (``flock``; ``msvcrt.locking`` on Windows), so it ends
    with its process: the file a killed run leaves behind blocks nobody. The file holds the
    process id, for the message."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.path = Path(folder) / f".{stem}.lock"
        self.stem, self.folder = stem, Path(folder)
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _lock(fd)
            except OSError as exc:
                if exc.errno not in _HELD:  # a file system without locks (some network shares): go on
                    break
                holder = _read_pid(fd)
                os.close(fd)
                who = f" (process {holder})" if holder else ""
                raise FervisionError(f"another fervision run{who} is writing {self.stem}'s outputs into "
                                     f"{self.folder}; wait for it to finish or choose another --output.") from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # its owner removed it as we opened it: lock the new one
        else:
            raise FervisionError(f"cannot lock {self.path}: it keeps being replaced.")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is None:
            return
        if sys.platform != "win32":
            self.path.unlink(missing_ok=True)  # while still locked: nobody can take it in between
        os.close(self._fd)
        self._fd = None
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                self.path.unlink()


_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK}


def _lock(fd: int) -> None:
    """Lock ``fd`` for this process, or raise ``OSError`` if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip()) if hasattr(os, "pread") else None
    except (OSError, ValueError):
        return None
