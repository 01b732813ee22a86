"""The lesson report: one self-contained HTML page a teacher opens after class.

Everything is inline (the chart as SVG, the students' strips as tiny SVGs, a few lines of
JavaScript to sort the table): no network, no external URL, so it opens from a USB stick. It
holds no face image. Jinja2 renders it (``templates/report.html.j2``), with autoescaping, so a
student's name or a checkpoint's text can never become markup.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..core.clock import clock as whole_seconds
from ..core.clock import clock_step
from ..core.frame import FaceFrame
from ..core.io import atomic_write_bytes
from ..labels import colour_hex
from .record import HIDDEN, LessonRecord
from .sink import SinkBase
from .timeline import class_facing, draw_class


def clock(seconds: float) -> str:
    """A length or time in view to the nearest second (a report gives 19.96 s as 0:20)."""
    return whole_seconds(round(seconds) if math.isfinite(seconds) else 0.0)


def class_chart_svg(record: LessonRecord) -> tuple[str, bool]:
    """The class's emotion shares per second (stacked) and, when head pose was read, the share
    facing front below, as an SVG document; and whether the facing-front panel is there."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds, facing = class_facing(record)
    with_facing = bool(np.isfinite(facing).any())
    fig, axes = plt.subplots(2 if with_facing else 1, 1, figsize=(10, 3.6 if with_facing else 2.8), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": [3, 1] if with_facing else [1]})
    draw_class(record, seconds, facing, axes[0, 0], axes[1, 0] if with_facing else None)
    if seconds:
        axes[0, 0].set_xlim(0, seconds[-1] + 1)
    last = axes[-1, 0]
    last.set_xlabel("time")
    span = seconds[-1] + 1 if seconds else 1
    # whole, even steps: 0:05, 0:10 …
    last.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(clock_step(span, 10)))
    last.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: clock(v)))
    fig.tight_layout()
    buf = io.StringIO()
    # no metadata block: it names matplotlib's web site, and the report links nowhere
    fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):], with_facing  # the document without its XML prologue, to inline


def _strip(record: LessonRecord, student_id: int, length_s: float) -> list[tuple[float, float, str]]:
    starts, ends, emotions = record.student_timeline(student_id)
    scale = 1000 / max(length_s, 1e-9)
    return [(round(float(a) * scale, 1), round(max(float(b - a) * scale, 1.0), 1), colour_hex(record.labels[int(e)]))
            for a, b, e in zip(starts, ends, emotions, strict=True)]


def _students(record: LessonRecord, length_s: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    counted: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for sid in record.student_ids():
        reason = record.reason(sid)
        if reason == HIDDEN:
            continue
        st = record.student(sid)
        facing = st.facing_front_share
        row = {"id": sid, "name": record.names.get(sid, ""), "seen_s": round(st.seen_s, 1), "seen": clock(st.seen_s),
               "dominant": record.dominant(sid) if st.frames else "", "strip": _strip(record, sid, length_s),
               "facing": "" if math.isnan(facing) else f"{facing:.0%}",
               "facing_value": "" if math.isnan(facing) else round(facing, 4), "counted": not reason,
               "reason": reason}
        (others if reason else counted).append(row)
    return counted, others


def miss_rates(metrics: Mapping[str, Any], labels: Sequence[str]) -> tuple[list[tuple[str, str]], str]:
    """1 − recall per label from a checkpoint's metrics (test if recorded, else validation), as text;
    values that are not numbers from 0 to 1 are left out (checkpoint metadata is not trusted)."""
    for split in ("test", "valid"):
        recall = (metrics.get(split) or {}).get("per_class_recall") if isinstance(metrics.get(split), dict) else None
        if isinstance(recall, dict):
            rates = [(label, f"{1 - float(recall[label]):.0%}") for label in labels
                     if isinstance(recall.get(label), (int, float)) and 0 <= float(recall[label]) <= 1]
            if rates:
                where = "FERPlus test set" if split == "test" else "the checkpoint's validation set"
                return rates, f"1 − recall on {where}, from the checkpoint's own record"
    return [], ""


def _templates() -> Any:
    """The package's Jinja2 templates, every value autoescaped (names and checkpoint text are data)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("fervision.outputs", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def write_report(record: LessonRecord, path: str | Path, *, title: str, length_s: float,
                 settings: Sequence[tuple[str, str]] = (), metrics: Mapping[str, Any] | None = None,
                 front_rule: str = "learned from the class: the direction most students face") -> Path:
    """Render the report of ``record`` (a lesson ``length_s`` seconds long) to ``path``, atomically."""
    env = _templates()
    class_svg, has_facing = class_chart_svg(record)
    counted, others = _students(record, length_s)
    rates, source = miss_rates(metrics or {}, record.labels)
    html = env.get_template("report.html.j2").render(
        title=title, length=clock(length_s), counted=counted, not_counted=others,
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"), class_svg=class_svg, has_facing=has_facing,
        legend=[(label, colour_hex(label)) for label in record.labels], settings=list(settings), miss_rates=rates,
        miss_source=source, front_rule=front_rule)
    path = Path(path)
    atomic_write_bytes(path, html.encode())
    return path


class ReportSink(SinkBase):
    """Writes the lesson's report from the record when closed (like the timeline, drawn once)."""

    def __init__(self, path: str | Path, record: LessonRecord, title: str, settings: Sequence[tuple[str, str]] = (),
                 metrics: Mapping[str, Any] | None = None, front_rule: str | None = None) -> None:
        self.path, self.record, self.title = Path(path), record, title
        self.settings, self.metrics, self.front_rule = list(settings), metrics, front_rule
        self.last_s = 0.0

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        self.last_s = max(self.last_s, faces.time_s)

    def close(self) -> None:
        length = max(self.last_s, self.record.length_s)
        extra = {"front_rule": self.front_rule} if self.front_rule else {}
        write_report(self.record, self.path, title=self.title, length_s=length, settings=self.settings,
                     metrics=self.metrics, **extra)


def write_index(path: str | Path, rows: Sequence[Mapping[str, Any]], labels: Sequence[str],
                extra_columns: Sequence[str], title: str = "Lessons") -> Path:
    """``index.html`` over many lessons: one row each (the manifest's columns, a link to its report,
    its length, students, a bar of the class's expressions, facing front), atomically."""
    env = _templates()
    shown = []
    for row in rows:
        shares = [float(row.get(f"share_{label}") or 0) for label in labels]
        bar, x = [], 0.0
        for label, share in zip(labels, shares, strict=True):
            if share > 0:
                bar.append((round(x, 1), round(share * 1000, 1), colour_hex(label)))
                x += share * 1000
        facing = row.get("facing_front_share")
        report = str(row.get("report") or "")
        shown.append({"extra": {c: row.get(c, "") for c in extra_columns}, "name": Path(str(row["path"])).name,
                      "report": report if report and not Path(report).is_absolute() and ".." not in Path(report).parts
                      else "", "status": row["status"], "reason": row.get("reason", ""),
                      "length": clock(float(row["duration_s"])) if row.get("duration_s") not in (None, "") else "",
                      "students": row.get("students", ""), "bar": bar,
                      "facing": f"{float(facing):.0%}" if facing not in (None, "") else ""})
    html = env.get_template("index.html.j2").render(
        title=title, rows=shown, extra_columns=list(extra_columns),
        legend=[(label, colour_hex(label)) for label in labels],
        done=sum(r["status"] in ("done", "skipped") for r in rows), failed=sum(r["status"] == "failed" for r in rows))
    path = Path(path)
    atomic_write_bytes(path, html.encode())
    return path
