"""Seconds of a lesson as people read them on a clock."""

from __future__ import annotations

import math


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on; whole seconds passed, as a media player counts
    (0:19 until the 20th second is over). Negative and non-finite times read 0:00."""
    total = int(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    hours, rest = divmod(total, 3600)
    return f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:d}:{rest % 60:02d}"
