"""Label sets of the supported datasets, in each dataset's own order, and their colours.

The order matters: checkpoints store their label list and every probability column
follows it, so these constants are only used when building datasets, never to interpret
a trained model's output.
"""

from __future__ import annotations

FERPLUS_LABELS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
)
"""FERPlus's eight emotions, in the column order of ``fer2013new.csv``."""

FERPLUS_VOTE_COLUMNS: tuple[str, ...] = (*FERPLUS_LABELS, "unknown", "NF")
"""All ten vote columns of FERPlus (the last two are dropped by the majority protocol)."""

RAFDB_LABELS: tuple[str, ...] = (
    "surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral",
)
"""RAF-DB basic's seven emotions; file labels 1..7 map to these in order."""

# BGR colours (OpenCV order) chosen to be distinguishable and to keep a familiar mood
# mapping (warm = happy, blue = sad, red = anger) across overlays and charts.
EMOTION_COLOURS_BGR: dict[str, tuple[int, int, int]] = {
    "neutral": (180, 180, 180),
    "happiness": (0, 215, 255),
    "surprise": (255, 191, 0),
    "sadness": (200, 90, 40),
    "anger": (40, 40, 220),
    "disgust": (60, 160, 60),
    "fear": (200, 80, 170),
    "contempt": (30, 110, 180),
}


def colour_bgr(label: str) -> tuple[int, int, int]:
    """Colour for an emotion label; unknown labels get a stable grey-ish fallback."""
    if label in EMOTION_COLOURS_BGR:
        return EMOTION_COLOURS_BGR[label]
    h = sum(map(ord, label))
    return (60 + h * 37 % 180, 60 + h * 71 % 180, 60 + h * 13 % 180)


def colour_hex(label: str) -> str:
    """The label's colour as ``#rrggbb`` (matplotlib, HTML, SVG)."""
    b, g, r = colour_bgr(label)
    return f"#{r:02x}{g:02x}{b:02x}"
