"""Seconds of a lesson as people read them on a clock."""

from __future__ import annotations

import math

CLOCK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
"""Tick spacings of a time axis, in seconds: round to a reader of a clock."""


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on; whole seconds passed, as a media player counts
    (0:19 until the 20th second is over). Negative and non-finite times read 0:00."""
    total = int(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    hours, rest = divmod(total, 3600)
    return f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:d}:{rest % 60:02d}"


def clock_step(span_s: float, most: float) -> int:
    """The smallest round step (:data:`CLOCK_STEPS_S`) that puts at most ``most`` ticks on ``span_s``
    seconds (the largest step for longer spans)."""
    return next((step for step in CLOCK_STEPS_S if span_s / step <= most), CLOCK_STEPS_S[-1])
