"""pyqtgraph charts: the class's emotion distribution over time (stacked area, rolling window),
the current distribution (bars) and one student's timeline. Colours match the overlays."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from ..analysis.session import SessionSnapshot
from ..labels import colour_bgr

pg.setConfigOptions(background="w", foreground="k", antialias=True)


def emotion_colour(label: str) -> QColor:
    b, g, r = colour_bgr(label)
    return QColor(r, g, b)


def _mmss_ticks(axis: pg.AxisItem) -> None:
    axis.tickStrings = lambda values, scale, spacing: [f"{int(v) // 60:d}:{int(v) % 60:02d}" for v in values]


class ClassChart(pg.PlotWidget):
    """Stacked area of the share of faces per emotion, one column per second of video."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.setYRange(0, 1.28, padding=0)  # the band above 1 holds the legend, clear of the data
        self.getAxis("left").setTicks([[(v / 4, f"{v / 4:g}") for v in range(5)]])
        self.setLabel("left", "share of faces")
        self.setTitle("Class emotion distribution over time", size="9pt")
        _mmss_ticks(self.getAxis("bottom"))
        self.legend = self.addLegend(offset=(-5, 5), labelTextSize="7pt", colCount=4)
        self.curves: list[pg.PlotDataItem] = []
        self.labels: list[str] = []
        self.points = 0

    def _build(self, labels: list[str]) -> None:
        for curve in self.curves:
            self.removeItem(curve)
        self.legend.clear()
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


class CurrentBars(pg.PlotWidget):
    """Horizontal bars of the class's distribution over the last seconds (labels read left)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.setXRange(0, 1, padding=0)
        self.getAxis("bottom").setTicks([[(v / 2, f"{v / 2:g}") for v in range(3)]])
        self.getPlotItem().invertY(True)
        self.setTitle("Now", size="9pt")
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


class StudentTimeline(pg.PlotWidget):
    """One student's top emotion over time: a line on the emotion's row for each run of it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=True, y=False)
        _mmss_ticks(self.getAxis("bottom"))
        self.runs: list[pg.PlotDataItem] = []
        self.labels: list[str] = []
        self.setXRange(0, 60, padding=0)
        self.setTitle("Select a student to see their timeline", size="9pt")

    def show_student(self, title: str, labels: list[str], starts: np.ndarray, ends: np.ndarray,
                     emotions: np.ndarray) -> None:
        """One thick segment per run, drawn as one item per emotion (a few items whatever the length)."""
        if labels != self.labels:
            self.labels = list(labels)
            self.getAxis("left").setTicks([[(i, label) for i, label in enumerate(labels)]])
            self.setYRange(-0.5, len(labels) - 0.5, padding=0)
        self._clear_runs()
        ends = np.maximum(ends, starts + 0.1)  # a single sighting still shows
        for e in np.unique(emotions):
            mine = emotions == e
            x = np.stack([starts[mine], ends[mine]], axis=1).ravel()
            item = pg.PlotDataItem(x, np.full(len(x), float(e)), connect="pairs",
                                   pen=pg.mkPen(emotion_colour(labels[int(e)]), width=6))
            self.addItem(item)
            self.runs.append(item)
        self.setTitle(title, size="9pt")

    def _clear_runs(self) -> None:
        for item in self.runs:
            self.removeItem(item)
        self.runs = []

    def clear_student(self) -> None:
        self._clear_runs()
        self.setTitle("Select a student to see their timeline", size="9pt")
