"""``fervision annotate``: run the whole road over a video, camera or images and write every output.

For ``lesson.mp4`` it writes ``lesson_annotated.mp4`` (H.264, source audio kept),
``lesson_faces.csv``, ``lesson_students.csv``, ``lesson_class.csv`` and
``lesson_timeline.png`` into the output folder; image inputs get ``*_annotated.jpg`` files
instead of a video. Face crops (``lesson_face_crops/``) only when asked.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tqdm import tqdm

from ..engine.config import PipelineConfig, build_pipeline
from ..engine.sources import ImageSource, VideoFileSource, open_source
from ..errors import FervisionError
from ..outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink
from ..outputs.face_crops import FaceCropSink
from ..outputs.images import AnnotatedImagesSink
from ..outputs.overlay import draw_faces
from ..outputs.record import LessonRecord
from ..outputs.sink import Sink
from ..outputs.timeline import TimelineSink
from ..outputs.video import AnnotatedVideoSink
from .loop import FrameLoop, run


@dataclass
class AnnotateResult:
    outputs: dict[str, Path] = field(default_factory=dict)
    frames: int = 0
    processed: int = 0
    failed_frames: int = 0
    students: int = 0


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
             progress: bool = True) -> AnnotateResult:
    """Annotate a source with the pipeline ``config`` describes; returns what was written.

    ``stride`` analyses every N-th frame (the video keeps every frame, the overlay held);
    ``save_faces_every`` (seconds) also saves student face crops, sorted by expression, into
    ``<output>/<stem>_face_crops/`` (see :class:`~fervision.outputs.face_crops.FaceCropSink`).
    Interrupting keeps every finished frame: each sink is closed on the way out."""
    if stride < 1:
        raise FervisionError("--stride must be 1 or more.")
    if save_faces_every is not None and save_faces_every < 0:
        raise FervisionError("--save-faces takes a number of seconds, 0 or more.")
    source = open_source(source_spec)
    folder = prepare_output_dir(output, source_spec)
    still = isinstance(source, ImageSource)
    pipeline = build_pipeline(config or PipelineConfig(), still=still)
    stem = source.name
    paths = {kind: folder / f"{stem}_{kind}.csv" for kind in ("faces", "students", "class")}
    record = LessonRecord(pipeline.labels)
    draw = partial(draw_faces, signals=pipeline.signals, blur=blur_faces)
    with contextlib.ExitStack() as stack:
        stack.enter_context(source)
        sinks: list[Sink] = [record]
        timeline = folder / f"{stem}_timeline.png"
        sinks.append(stack.enter_context(TimelineSink(timeline, record,
                                                      title=f"{stem}: class emotion distribution")))
        sinks += [stack.enter_context(FacesCsvSink(paths["faces"], pipeline.signals)),
                  stack.enter_context(ClassCsvSink(paths["class"], record)),
                  stack.enter_context(StudentsCsvSink(paths["students"], record))]
        if save_faces_every is not None:
            paths["face_crops"] = folder / f"{stem}_face_crops"
            photos = _photo_stems(source) if isinstance(source, ImageSource) else None
            sinks.append(stack.enter_context(FaceCropSink(
                paths["face_crops"], stem, pipeline.recognizer.meta.preprocessing.crop_margin,
                every_s=save_faces_every, still_names=photos)))
        if isinstance(source, VideoFileSource):
            paths["video"] = folder / f"{stem}_annotated.mp4"
            sinks.append(stack.enter_context(AnnotatedVideoSink(paths["video"], source.fps or 25.0,
                                                                (source.width, source.height), draw,
                                                                audio_from=source.path)))
        elif isinstance(source, ImageSource):
            paths["images"] = folder
            sinks.append(AnnotatedImagesSink(folder, _photo_stems(source), draw))
        bar = stack.enter_context(tqdm(total=source.frame_count, unit="frame", desc=stem, disable=not progress,
                                       mininterval=0.5 if sys.stderr.isatty() else 10.0))
        stats = run(source, FrameLoop(pipeline, sinks), stride=stride, on_frame=lambda *_: bar.update(1))
    paths["timeline"] = timeline
    return AnnotateResult(outputs=paths, frames=stats.frames, processed=stats.processed,
                          failed_frames=source.failed_frames, students=len(record.students))


def _photo_stems(source: ImageSource) -> Callable[[int], str]:
    """Frame index → the photo's file stem (for the names of annotated copies and crops)."""
    return lambda index: source.files[index].stem
