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
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..errors import FervisionError
from ..outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink
from ..outputs.face_crops import FaceCropSink
from ..outputs.overlay import draw_faces
from ..outputs.record import LessonRecord
from ..outputs.timeline import save_timeline
from ..outputs.video import H264Writer
from .config import PipelineConfig, build_pipeline
from .detectors import DEFAULT_DETECTOR, DEFAULT_MIN_FACE_PX
from .frame import FaceFrame
from .sources import ImageSource, VideoFileSource, open_source
from .still import write_image


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


def annotate(
    source_spec: str,
    output: str | Path | None = None,
    model: str = "default",
    detector: str = DEFAULT_DETECTOR,
    device: str = "auto",
    stride: int = 1,
    blur_faces: bool = False,
    max_faces_per_frame: int | None = None,
    min_face_score: float | None = None,
    min_face_size: int = DEFAULT_MIN_FACE_PX,
    camera_motion: bool = False,
    detect_every: int | None = None,
    save_faces_every: float | None = None,
    progress: bool = True,
) -> AnnotateResult:
    """Annotate a source; returns what was written. Interrupting keeps every finished frame.

    ``save_faces_every`` (seconds) also saves student face crops, sorted by expression, into
    ``<output>/<stem>_face_crops/`` (see :class:`~fervision.outputs.face_crops.FaceCropSink`)."""
    if stride < 1:
        raise FervisionError("--stride must be 1 or more.")
    if save_faces_every is not None and save_faces_every < 0:
        raise FervisionError("--save-faces takes a number of seconds, 0 or more.")
    source = open_source(source_spec)
    folder = prepare_output_dir(output, source_spec)
    config = PipelineConfig(model=model, device=device, detector=detector, min_face_score=min_face_score,
                            min_face_px=min_face_size, detect_every=detect_every,
                            max_faces_per_frame=max_faces_per_frame, camera_motion=camera_motion)
    still = isinstance(source, ImageSource)
    pipeline = build_pipeline(config, still=still)
    recognizer = pipeline.recognizer
    record = LessonRecord(recognizer.labels)
    stem = source.name
    result = AnnotateResult()
    paths = {kind: folder / f"{stem}_{kind}.csv" for kind in ("faces", "students", "class")}
    with contextlib.ExitStack() as stack:
        stack.enter_context(source)
        faces_csv = stack.enter_context(FacesCsvSink(paths["faces"], recognizer.labels))
        class_csv = stack.enter_context(ClassCsvSink(paths["class"], record))
        students_csv = stack.enter_context(StudentsCsvSink(paths["students"], record))
        crops = None
        if save_faces_every is not None:
            paths["face_crops"] = folder / f"{stem}_face_crops"
            crops = stack.enter_context(FaceCropSink(paths["face_crops"], stem, recognizer.meta.preprocessing.crop_margin,
                                                     every_s=save_faces_every))
        writer = None
        if isinstance(source, VideoFileSource):
            paths["video"] = folder / f"{stem}_annotated.mp4"
            writer = stack.enter_context(H264Writer(paths["video"], source.fps or 25.0, (source.width, source.height),
                                                    audio_from=source.path))
        bar = stack.enter_context(tqdm(total=source.frame_count, unit="frame", desc=stem, disable=not progress,
                                       mininterval=0.5 if sys.stderr.isatty() else 10.0))
        last: FaceFrame | None = None
        for frame in source:
            result.frames += 1
            if frame.index % stride == 0 or last is None:
                last = pipeline.process(frame)
                result.processed += 1
                record.add(last)
                for sink in (faces_csv, class_csv, students_csv):
                    sink.write(last)
                if crops is not None:
                    crops.write(last, frame.image, Path(source.files[frame.index]).stem if still else None)
            annotated = draw_faces(frame.image, last, blur=blur_faces)
            if writer is not None:
                writer.write(annotated, frame.time_s)
            elif still:
                out = folder / f"{Path(source.files[frame.index]).stem}_annotated.jpg"
                write_image(out, annotated)
                paths.setdefault("images", folder)
            bar.update(1)
        result.failed_frames = source.failed_frames
    paths["timeline"] = save_timeline(record, folder / f"{stem}_timeline.png", title=f"{stem}: class emotion distribution")
    result.outputs = paths
    result.students = len(record.students)
    return result
