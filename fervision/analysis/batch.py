"""``fervision batch``: a term of lessons, each analysed as ``annotate`` analyses one, on local
worker processes or as Ray tasks on a cluster.

Every lesson goes to ``<output>/<lesson>/`` through one function, :func:`run_lesson`, whichever
way it runs. A lesson is finished when its marker file is written (atomically, after every
output); a re-run skips finished lessons and starts unfinished ones afresh (their folder is
emptied first). A lesson that fails (a corrupt file, no video at all) is recorded with its one
sentence and the others go on. ``<output>/lessons.csv`` holds one row per lesson handled so far,
and ``<output>/index.html`` links every lesson's report with the same figures at a glance; both
are rewritten atomically after each lesson.

Ray (``pip install fervision[cluster]``) is the distributed engine: one task per lesson, a GPU
reserved per task when the cluster has GPUs, retried when a worker is lost. On a cluster,
``--output`` must be storage every node sees (NFS, a mounted bucket): each task writes there.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..core.io import atomic_write_bytes
from ..engine.config import PipelineConfig
from ..errors import FervisionError
from ..outputs import VIDEO_MAX_SIDE
from ..outputs.report import write_index

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".ts"}
MARKER = "lesson_done.json"
STARTED = ".fervision-batch-lesson"
"""Written first into a lesson's folder: only a folder that has it is ever emptied by a re-run."""
LESSONS_CSV = "lessons.csv"
INDEX_HTML = "index.html"
RESULT_COLUMNS = ["path", "status", "reason", "duration_s", "frames_analysed", "students"]


@dataclass(frozen=True)
class Lesson:
    """One recording: ``name`` is its folder under the output (made safe and unique), ``extra`` the
    manifest's other columns, carried into ``lessons.csv`` as they are."""

    name: str
    path: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LessonOptions:
    """What ``annotate`` is told for each lesson."""

    config: PipelineConfig = field(default_factory=PipelineConfig)
    stride: int = 1
    blur_faces: bool = False
    save_faces_every: float | None = None
    video_max_side: int | None = VIDEO_MAX_SIDE


def _safe_name(stem: str) -> str:
    """A folder name from a file name: letters, digits, ``-_.`` only, never empty or dots only."""
    name = re.sub(r"[^\w.-]+", "_", stem, flags=re.UNICODE).strip("._") or "lesson"
    return name[:80]


def _videos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def find_lessons(inputs: Sequence[str], manifest: str | Path | None = None) -> list[Lesson]:
    """The lessons named by ``inputs`` (video files, folders searched for videos, glob patterns)
    and by ``manifest`` (a CSV with a ``path`` column; relative paths are relative to it)."""
    found: list[tuple[Path, dict[str, str]]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += [(p, {}) for p in _videos_in(path)]
        elif path.is_file():
            found.append((path, {}))
        elif glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            if not matches:
                raise FervisionError(f"no file matches {item}.")
            found += [(p, {}) for p in matches if p.is_file()]
        else:
            raise FervisionError(f"{item} does not exist.")
    if manifest is not None:
        found += _read_manifest(Path(manifest))
    if not found:
        raise FervisionError("no lessons to analyse: give video files, folders with videos, or --manifest.")
    lessons, used = [], set()
    for path, extra in found:
        name = base = _safe_name(path.stem)
        k = 2
        while name.lower() in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name.lower())
        lessons.append(Lesson(name, str(path), extra))
    return lessons


def _read_manifest(path: Path) -> list[tuple[Path, dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FervisionError(f"cannot read the manifest {path} ({exc}).") from None
    if not rows or "path" not in rows[0]:
        raise FervisionError(f"the manifest {path} needs a header row with a 'path' column.")
    clash = sorted(set(rows[0]) & set(RESULT_COLUMNS) - {"path"})
    if clash:
        raise FervisionError(f"the manifest {path} has columns that lessons.csv fills itself: {', '.join(clash)}.")
    out = []
    for i, row in enumerate(rows, start=2):
        if not (row.get("path") or "").strip():
            raise FervisionError(f"the manifest {path}, line {i}, has no path.")
        video = Path(row["path"].strip())
        if not video.is_absolute():
            video = path.parent / video
        out.append((video, {k: (v or "") for k, v in row.items() if k != "path" and k is not None}))
    return out


def _row(lesson: Lesson, status: str, reason: str = "", **values: Any) -> dict[str, Any]:
    return {**lesson.extra, "path": lesson.path, "status": status, "reason": reason, **values}


def run_lesson(lesson: Lesson, output: str, options: LessonOptions, progress: bool = False) -> dict[str, Any]:
    """Analyse one lesson into ``<output>/<lesson.name>/`` and return its ``lessons.csv`` row.

    The one function both the local workers and the Ray tasks run. A finished lesson (its marker
    is there) is skipped; an unfinished one starts afresh. It never raises for a bad lesson: the
    row says ``failed`` and why."""
    from .annotate import annotate  # here, so a worker process imports torch once it has work

    folder = Path(output) / lesson.name
    marker = folder / MARKER
    if marker.is_file():
        try:
            done = json.loads(marker.read_text())
            return _row(lesson, "skipped", "finished in an earlier run", **done["values"])
        except (OSError, ValueError, KeyError):
            pass  # a marker we cannot read: analyse the lesson again
    if folder.exists():
        if not (folder / STARTED).is_file() and any(folder.iterdir()):
            return _row(lesson, "failed", f"{folder} exists and was not made by fervision batch; "
                                          "move it away or choose another --output.")
        shutil.rmtree(folder)  # an unfinished run's leftovers (it says so: the STARTED file)
    folder.mkdir(parents=True)
    (folder / STARTED).write_text(f"{lesson.path}\n")
    started = time.perf_counter()
    try:
        result = annotate(lesson.path, options.config, folder, stride=options.stride, blur_faces=options.blur_faces,
                          save_faces_every=options.save_faces_every, progress=progress,
                          video_max_side=options.video_max_side)
    except FervisionError as exc:
        return _row(lesson, "failed", str(exc), wall_s=round(time.perf_counter() - started, 1))
    except Exception as exc:  # a lesson must never stop the term: say what it was, go on
        return _row(lesson, "failed", f"{type(exc).__name__}: {exc}", wall_s=round(time.perf_counter() - started, 1))
    values: dict[str, Any] = {
        "duration_s": round(result.duration_s, 2), "frames_analysed": result.processed, "students": result.students,
        **{f"share_{label}": round(share, 4) for label, share in result.class_shares.items()},
        "facing_front_share": "" if math.isnan(result.facing_front_share) else round(result.facing_front_share, 4),
        "wall_s": round(time.perf_counter() - started, 1),
        "report": Path(os.path.relpath(result.outputs["report"], output)).as_posix(),
    }
    atomic_write_bytes(marker, json.dumps({"lesson": asdict(lesson), "values": values}, indent=1).encode())
    return _row(lesson, "done", **values)


@dataclass
class BatchSummary:
    rows: list[dict[str, Any]]
    csv_path: Path

    def count(self, status: str) -> int:
        return sum(row["status"] == status for row in self.rows)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == "failed"]


def write_lessons_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Every row so far, columns in first-seen order (manifest's, results, shares), atomically."""
    rows = list(rows)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    last = ["facing_front_share", "wall_s", "report"]
    order = [c for c in columns if c not in RESULT_COLUMNS and not c.startswith("share_") and c not in last]
    order += RESULT_COLUMNS + [c for c in columns if c.startswith("share_")] + last
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=order, restval="")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())


def _duration_s(path: str) -> float:
    """A video's length from its header (for the progress bar's hours), 0 when unknown."""
    import cv2

    capture = cv2.VideoCapture(path)
    try:
        fps, frames = capture.get(cv2.CAP_PROP_FPS), capture.get(cv2.CAP_PROP_FRAME_COUNT)
        return float(frames / fps) if fps > 0 and frames > 0 else 0.0
    finally:
        capture.release()


def _init_worker(threads: int) -> None:
    """Each local worker takes its share of the cores (torch and OpenCV would each take them all)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


def _local_results(lessons: list[Lesson], output: str, options: LessonOptions,
                   workers: int) -> Iterator[tuple[Lesson, dict[str, Any]]]:
    if workers == 1:
        for lesson in lessons:
            yield lesson, run_lesson(lesson, output, options, progress=True)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(threads,)) as pool:
        pending: dict[Future[dict[str, Any]], Lesson] = {
            pool.submit(run_lesson, lesson, output, options): lesson for lesson in lessons}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                lesson = pending.pop(future)
                try:
                    yield lesson, future.result()
                except Exception as exc:  # the worker process itself died (killed, out of memory)
                    yield lesson, _row(lesson, "failed", f"its worker process ended ({type(exc).__name__}).")


def _ray_results(lessons: list[Lesson], output: str, options: LessonOptions, address: str,
                 cpus_per_lesson: int) -> Iterator[tuple[Lesson, dict[str, Any]]]:
    try:
        import ray
    except ImportError:
        raise FervisionError("--ray needs Ray: pip install 'fervision[cluster]'.") from None
    ray.init(address=None if address == "local" else address, ignore_reinit_error=True,
             include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        gpus = ray.cluster_resources().get("GPU", 0)
        if gpus:  # one GPU per lesson, the recogniser on it
            options = replace(options, config=options.config.with_(device="cuda"))
        task = ray.remote(run_lesson).options(num_gpus=1 if gpus else 0, num_cpus=cpus_per_lesson, max_retries=3)
        pending = {task.remote(lesson, output, options): lesson for lesson in lessons}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                lesson = pending.pop(ref)
                try:
                    yield lesson, ray.get(ref)
                except Exception as exc:  # lost more often than the retries allow
                    yield lesson, _row(lesson, "failed", f"its Ray task failed ({type(exc).__name__}).")
    finally:
        ray.shutdown()


def run_batch(lessons: list[Lesson], output: str | Path, options: LessonOptions | None = None, *, workers: int = 1,
              ray_address: str | None = None, cpus_per_lesson: int = 1, progress: bool = True,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> BatchSummary:
    """Every lesson into ``output``; ``lessons.csv`` rewritten after each. ``ray_address``:
    ``"local"`` (a Ray on this machine), ``"auto"`` or ``ray://host:10001`` (a cluster); None: local
    processes (``workers`` of them)."""
    from tqdm import tqdm

    if workers < 1:
        raise FervisionError("--workers must be 1 or more.")
    out = Path(output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FervisionError(f"cannot create output folder {out} ({exc.strerror}).") from None
    options = options or LessonOptions()
    order = {lesson.name: i for i, lesson in enumerate(lessons)}
    rows: dict[str, dict[str, Any]] = {}
    csv_path = out / LESSONS_CSV
    extra_columns = list(dict.fromkeys(c for lesson in lessons for c in lesson.extra))
    hours = {lesson.name: _duration_s(lesson.path) / 3600 for lesson in lessons}
    results = (_ray_results(lessons, str(out), options, ray_address, cpus_per_lesson) if ray_address
               else _local_results(lessons, str(out), options, workers))
    with tqdm(total=len(lessons), unit="lesson", desc="lessons", disable=not progress, position=0) as bar:
        done_hours = 0.0
        for lesson, row in results:
            rows[lesson.name] = row
            in_order = [rows[name] for name in sorted(rows, key=order.__getitem__)]
            write_lessons_csv(csv_path, in_order)
            labels = [c.removeprefix("share_") for r in in_order for c in r if c.startswith("share_")]
            write_index(out / INDEX_HTML, in_order, list(dict.fromkeys(labels)), extra_columns, title=out.name)
            done_hours += hours[lesson.name]
            bar.set_postfix_str(f"{done_hours:.2f} h of video, {sum(r['status'] == 'failed' for r in rows.values())}"
                                " failed")
            bar.update(1)
            if on_row is not None:
                on_row(row)
    return BatchSummary([rows[name] for name in sorted(rows, key=order.__getitem__)], csv_path)
