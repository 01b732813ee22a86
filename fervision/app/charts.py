"""pyqtgraph charts: the class's emotion distribution over time (stacked area, rolling window),
the share of the class facing front under it, the current distribution (bars) and one student's
timeline (with their facing-front share on a row of its own). Colours match the overlays.

The class chart's legend is a row of text above the plots (``ClassCharts``), never drawn over
the data; time axes label whole, round seconds (``TimeAxis``), so an empty chart shows 0:00,
0:10, … rather than 0:00 repeated at fractions of a second.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from ..analysis.session import SessionSnapshot
from ..core.clock import clock, clock_step
from ..labels import colour_bgr

pg.setConfigOptions(background="w", foreground="k", antialias=True)

EMPTY_WINDOW_S = 60.0
"""The time span an empty chart shows."""
PERCENT_AXIS_WIDTH = 40
"""Pixels for a 0–100 % axis: the same on the class chart and the facing-front one under it."""


def emotion_colour(label: str) -> QColor:
    b, g, r = colour_bgr(label)
    return QColor(r, g, b)


class TimeAxis(pg.AxisItem):
    """Seconds labelled as a clock, one tick per round step (1 s, 5 s, 10 s, 30 s, 1 min, …) and
    at most one label every ~70 px, so no two ticks ever read the same."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        span = maxVal - minVal
        if not np.isfinite(span) or span <= 0 or size <= 0:
            return []
        most = max(1.0, size / 70.0)
        return [(float(clock_step(span, most)), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [clock(v) for v in values]


def _percent_ticks(values: tuple[float, ...]) -> list[list[tuple[float, str]]]:
    return [[(v, f"{round(100 * v)}%") for v in values]]


class ClassChart(pg.PlotWidget):
    """Stacked area of the share of faces per emotion, one column per second of video."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": TimeAxis("bottom")})
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setYRange(0, 1, padding=0.02)
        self.getAxis("left").setTicks(_percent_ticks((0.0, 0.5, 1.0)))
        self.getAxis("left").setWidth(PERCENT_AXIS_WIDTH)
        self.setXRange(0, EMPTY_WINDOW_S, padding=0)
        self.curves: list[pg.PlotDataItem] = []
        self.labels: list[str] = []
        self.points = 0

    def _build(self, labels: list[str]) -> None:
        for curve in self.curves:
            self.removeItem(curve)
        self.curves, self.labels = [], list(labels)
        # Each curve is the cumulative share up to its label, filled down to 0; drawn from the
        # tallest (last label) to the lowest so each lower band paints over the one above it.
        for i, label in enumerate(labels):
            colour = emotion_colour(label)
            curve = pg.PlotDataItem(pen=pg.mkPen(colour.darker(120), width=1), fillLevel=0,
                                    brush=pg.mkBrush(colour), name=label)
            curve.setZValue(len(labels) - i)
            self.addItem(curve)
            self.curves.append(curve)

    def update_from(self, snapshot: SessionSnapshot) -> None:
        if snapshot.labels != self.labels:
            self._build(snapshot.labels)
        seconds = snapshot.seconds
        cumulative = np.cumsum(snapshot.shares, axis=1) if len(seconds) else np.zeros((0, len(self.labels)))
        edges = np.append(seconds, seconds[-1] + 1.0) if len(seconds) else np.zeros(0)
        for i, curve in enumerate(self.curves):
            if len(seconds):
                curve.setData(edges, cumulative[:, i], stepMode="center")  # one block per second
            else:
                curve.clear()
        self.points = len(seconds)
        if len(seconds):
            self.setXRange(edges[0], max(edges[-1], edges[0] + 10.0), padding=0.0)
        else:
            self.setXRange(0, EMPTY_WINDOW_S, padding=0)

    def clear_chart(self) -> None:
        """A new source: no data, the empty time span."""
        for curve in self.curves:
            curve.clear()
        self.points = 0
        self.setXRange(0, EMPTY_WINDOW_S, padding=0)


def second_levels(seconds: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of a line that holds each second's value across that second, broken (NaN) where a
    value is unknown or between seconds that are not next to each other: nothing is drawn where
    nothing was read."""
    seconds, values = np.asarray(seconds, np.float64), np.asarray(values, np.float64)
    gaps = np.flatnonzero(np.diff(seconds) > 1.0) + 1
    x = np.stack([seconds, seconds + 1.0], axis=1).ravel()
    y = np.repeat(values, 2)
    return np.insert(x, 2 * gaps, np.nan), np.insert(y, 2 * gaps, np.nan)


FACING_PEN = pg.mkPen(QColor(40, 40, 40), width=2)
"""Facing front is drawn in near-black: no emotion's colour, so it never reads as one."""


class FacingChart(pg.PlotWidget):
    """The share of the counted students facing front, per second, under the class chart and on
    its time axis. Seconds with no head direction (head pose off, nobody in view) leave a gap."""

    def __init__(self, chart: ClassChart, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": TimeAxis("bottom")})
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setYRange(0, 1, padding=0.15)  # room for the 100 % label on a short plot
        self.getAxis("left").setTicks(_percent_ticks((0.0, 1.0)))
        self.getAxis("left").setWidth(PERCENT_AXIS_WIDTH)  # as the class chart's, so the seconds line up
        self.chart = chart
        self.setXRange(0, EMPTY_WINDOW_S, padding=0)
        self.curve = pg.PlotDataItem(pen=FACING_PEN, connect="finite")
        self.addItem(curve := self.curve)
        curve.setZValue(1)
        self.points = 0

    def update_from(self, snapshot: SessionSnapshot) -> None:
        seconds, facing = snapshot.seconds, np.asarray(snapshot.facing, np.float64)
        self.points = int(np.isfinite(facing).sum())
        self.setXRange(*self.chart.getViewBox().viewRange()[0], padding=0)  # the class chart's time span
        if not len(seconds) or not self.points:
            self.curve.clear()
            return
        self.curve.setData(*second_levels(seconds, facing))

    def clear_chart(self) -> None:
        self.curve.clear()
        self.points = 0
        self.setXRange(0, EMPTY_WINDOW_S, padding=0)


class CurrentBars(pg.PlotWidget):
    """Horizontal bars of the class's distribution over the last seconds (labels read left)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setXRange(0, 1, padding=0)
        self.getAxis("bottom").setTicks(_percent_ticks((0.0, 0.5, 1.0)))
        self.getAxis("left").setTicks([[]])  # no emotions yet: no numbers running down the axis
        self.getPlotItem().invertY(True)  # the first emotion on top, as in the legend
        self.bars: pg.BarGraphItem | None = None
        self.labels: list[str] = []
        self.heights = np.zeros(0)

    def update_from(self, snapshot: SessionSnapshot) -> None:
        if snapshot.labels != self.labels:
            self.labels = list(snapshot.labels)
            if self.bars is not None:
                self.removeItem(self.bars)
            self.bars = pg.BarGraphItem(x0=0, y=np.arange(len(self.labels)), width=np.zeros(len(self.labels)),
                                        height=0.8, brushes=[emotion_colour(label) for label in self.labels])
            self.addItem(self.bars)
            self.getAxis("left").setTicks([[(i, label) for i, label in enumerate(self.labels)]])
            self.setYRange(-0.5, len(self.labels) - 0.5, padding=0)
        self.heights = np.asarray(snapshot.current, np.float64)
        if self.bars is not None:  # none yet while the snapshot has no labels
            self.bars.setOpts(width=self.heights)


class ClassCharts(QWidget):
    """The class chart and the "now" bars under one row of text: their titles and the legend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.now_title = QLabel("Now (last 2 s)")
        header = QHBoxLayout()
        header.setContentsMargins(6, 0, 6, 0)
        header.addWidget(self.legend, 1)
        header.addWidget(self.now_title, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        self.chart = ClassChart()
        self.bars = CurrentBars()
        self.facing = FacingChart(self.chart)
        self.chart.setMinimumHeight(90)
        self.bars.setMinimumHeight(90)
        self.facing.setMinimumHeight(48)
        self.facing_title = QLabel()
        over_time = QWidget()
        column = QVBoxLayout(over_time)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.chart, 3)
        column.addWidget(self.facing_title)
        column.addWidget(self.facing, 1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(over_time)
        plots.addWidget(self.bars)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 1)
        layout.addWidget(plots, 1)
        self._legend_labels: list[str] | None = None
        self._set_legend([])
        self._set_facing_title(True)

    def _set_legend(self, labels: list[str]) -> None:
        self._legend_labels = list(labels)
        swatches = "&nbsp;&nbsp; ".join(
            f'<span style="color:{emotion_colour(label).name()}">&#9632;</span>&nbsp;{html.escape(label)}'
            for label in labels)
        self.legend.setText(f"<b>Class emotions over time</b>&nbsp;&nbsp; {swatches}")

    def update_from(self, snapshot: SessionSnapshot) -> None:
        if snapshot.labels != self._legend_labels:
            self._set_legend(snapshot.labels)
        self.chart.update_from(snapshot)
        self.bars.update_from(snapshot)
        self.facing.update_from(snapshot)
        self._set_facing_title(self.facing.points > 0 or not len(snapshot.seconds))

    def _set_facing_title(self, known: bool) -> None:
        note = "" if known else " (no head direction read: head pose is off, or no face is turned to the camera)"
        self.facing_title.setText(f"<small>&nbsp;Facing front (share of the class){note}</small>")

    def clear_charts(self) -> None:
        self.chart.clear_chart()
        self.facing.clear_chart()


class StudentTimeline(pg.PlotWidget):
    """One student's top emotion over time: a line on the emotion's row for each run of it; above
    the emotions, a row with the share of each second they faced front (when head pose was read)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": TimeAxis("bottom")})
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=True, y=False)
        self.hideButtons()
        self.runs: list[pg.PlotDataItem] = []
        self.labels: list[str] = []
        self.facing = pg.PlotDataItem(pen=FACING_PEN, connect="finite")
        self.addItem(self.facing)
        self.facing_points = 0
        self.setXRange(0, EMPTY_WINDOW_S, padding=0)
        self.getAxis("left").setTicks([[]])
        self.setTitle("Select a student to see their timeline", size="9pt")

    def show_student(self, title: str, labels: list[str], starts: np.ndarray, ends: np.ndarray,
                     emotions: np.ndarray, facing: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """One thick segment per run, drawn as one item per emotion (a few items whatever the length);
        ``facing``: (seconds, share facing front) drawn on the top row, 0 % at its foot, 100 % at its head."""
        if labels != self.labels:
            self.labels = list(labels)
            self.getAxis("left").setTicks([[(i, label) for i, label in enumerate(labels)]
                                           + [(len(labels), "facing front")]])
            self.setYRange(-0.5, len(labels) + 0.5, padding=0)
        self._clear_runs()
        self._show_facing(len(labels), facing)
        ends = np.maximum(ends, starts + 0.1)  # a single sighting still shows
        for e in np.unique(emotions):
            mine = emotions == e
            x = np.stack([starts[mine], ends[mine]], axis=1).ravel()
            item = pg.PlotDataItem(x, np.full(len(x), float(e)), connect="pairs",
                                   pen=pg.mkPen(emotion_colour(labels[int(e)]), width=6))
            self.addItem(item)
            self.runs.append(item)
        self.setTitle(title, size="9pt")

    def _show_facing(self, row: int, facing: tuple[np.ndarray, np.ndarray] | None) -> None:
        seconds, share = facing if facing is not None else (np.zeros(0), np.zeros(0))
        self.facing_points = len(seconds)
        if not len(seconds):
            self.facing.clear()
            return
        self.facing.setData(*second_levels(seconds, row - 0.4 + 0.8 * np.clip(share, 0.0, 1.0)))

    def _clear_runs(self) -> None:
        for item in self.runs:
            self.removeItem(item)
        self.runs = []

    def clear_student(self) -> None:
        """Nobody selected (or a new source): no runs, no emotion rows, the empty time span."""
        self._clear_runs()
        self._show_facing(0, None)
        self.labels = []
        self.getAxis("left").setTicks([[]])
        self.setXRange(0, EMPTY_WINDOW_S, padding=0)
        self.setTitle("Select a student to see their timeline", size="9pt")
