"""Silence what native libraries print straight to the process's stderr while they start.

MediaPipe's TensorFlow Lite graphs log start-up chatter ("Created TensorFlow Lite XNNPACK
delegate", "Feedback manager requires a model with a single signature…") from C++ threads,
before its logging can be configured, so Python cannot filter it: the file descriptor is
pointed at the null device for the few milliseconds a graph takes to start, then restored.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Within the block, output written to file descriptor 2 by native code is dropped."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (a GUI without a console): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
