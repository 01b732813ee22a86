"""A workaround for PySide6 6.12.0 on Python 3.10 and 3.11: every call of a Qt method that returns
nothing (``setText``, ``setValue``, ``update`` …) drops one reference to ``None`` it never took.

Before Python 3.12 ``None`` is reference-counted like any object, so its count falls by several
hundred a second while a video plays, and when it reaches zero the interpreter aborts
("Fatal Python error: none_dealloc") — about six minutes into a lesson. PySide6 6.11 does not do
this, and from Python 3.12 on ``None`` is immortal. Where the loss is measured, ``None`` is given
enough references to outlast any lesson.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject

SPARE_REFERENCES = 1 << 40
"""Added to ``None``'s count where Qt drops references: at 10,000 a second, 3 years' worth."""
_fixed = False


def qt_drops_none_references(calls: int = 200) -> bool:
    """Whether calling a Qt method that returns nothing lowers ``None``'s reference count."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - calls // 2


def keep_none_alive() -> bool:
    """Give ``None`` spare references when this Qt binding drops them (once; True when it did).

    Writes the count directly (``ob_refcnt``, the first field of every object in CPython): one
    ``Py_IncRef`` per lost reference would take minutes."""
    global _fixed
    if _fixed or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not qt_drops_none_references():
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += SPARE_REFERENCES
    _fixed = True
    return True
