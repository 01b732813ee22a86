"""The desktop app (PySide6). Everything Qt lives in this package; nothing below imports it."""
