"""Whether a window can open here, asked before Qt is imported (Qt aborts the process when
it cannot reach a display, which no ``try`` can catch)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def has_display(environ: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """True on Windows and macOS; on Linux when X11 or Wayland is reachable or a Qt platform is chosen."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return True
    if env.get("QT_QPA_PLATFORM"):
        return True  # the user picked a platform (offscreen, vnc, eglfs …): trust them
    if env.get("WAYLAND_DISPLAY"):
        return True
    display = env.get("DISPLAY", "")
    if not display:
        return False
    host, _, number = display.partition(":")
    if host and host != "unix":
        return True  # a remote X server (ssh -X): cannot check its socket from here
    socket = Path("/tmp/.X11-unix") / f"X{number.split('.')[0]}"
    return socket.exists()
