"""Overlay drawing: a box per face in its emotion's colour, its id (and name) and each signal's
overlay text (``happiness 87%`` for the expression).

Text is drawn with FreeType (Pillow) in DejaVu Sans, the font matplotlib ships, so any name a
teacher types in a Latin, Greek or Cyrillic script renders ("José Núñez"; OpenCV's own font is
ASCII-only). Labels never cover each other: each is placed above its face, below it or inside its
top edge, wherever it is free; in a crowded class most show the id alone (the full label where
there is room), and a face whose id does not fit either keeps its coloured box only. The
highlighted (selected) student gets the full label first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..core.frame import FaceFrame
from ..core.signal_format import SignalFormat
from ..labels import colour_bgr
from .record import student_label


@lru_cache(maxsize=1)
def _font_file() -> Path:
    import matplotlib  # only for the path of its bundled DejaVu Sans

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@lru_cache(maxsize=16)
def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_font_file()), px)


@lru_cache(maxsize=4096)
def _word(word: str, colour: tuple[int, int, int], px: int) -> np.ndarray:
    """One word, black on ``colour`` (BGR), as tall as the font's line."""
    font = _font(px)
    ascent, descent = font.getmetrics()
    image = Image.new("RGB", (max(1, int(np.ceil(font.getlength(word)))), ascent + descent + 2),
                      tuple(reversed(colour)))
    ImageDraw.Draw(image).text((0, 1), word, fill=(0, 0, 0), font=font)
    return np.asarray(image)[:, :, ::-1]


@lru_cache(maxsize=4096)
def label_patch(text: str, colour: tuple[int, int, int], px: int) -> np.ndarray:
    """The label as a small opaque BGR image (black anti-aliased text on the emotion's colour).

    Rendering text is the costly part of drawing (~0.7 ms a label with FreeType); labels repeat
    from frame to frame and are made of few distinct words ("#3", "neutral", "63%"), so each word
    is rendered once and labels are put together from them.
    """
    words = [_word(w, colour, px) for w in text.split(" ") if w]
    if not words:
        words = [_word(" ", colour, px)]
    gap = np.empty((words[0].shape[0], max(1, round(_font(px).getlength(" "))), 3), np.uint8)
    gap[:] = colour
    edge = gap[:, :3]
    parts = [edge]
    for k, word in enumerate(words):
        parts += [gap, word] if k else [word]
    patch = np.ascontiguousarray(np.concatenate([*parts, edge], axis=1))
    patch.flags.writeable = False
    return patch


def _paste(out: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Copy ``patch`` with its top-left at (x, y), clipped to the image."""
    h, w = out.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + patch.shape[1], w), min(y + patch.shape[0], h)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = patch[y0 - y: y1 - y, x0 - x: x1 - x]


@dataclass(frozen=True)
class PlacedLabel:
    face: int
    text: str
    x: int
    y: int
    patch: np.ndarray

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.patch.shape[1], self.y + self.patch.shape[0]


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _candidates(box: np.ndarray, size: tuple[int, int], frame: tuple[int, int]) -> list[tuple[int, int]]:
    """Top-left corners to try for a label of ``size`` (w, h): above the box, below it, inside its top."""
    x1, y1, x2, y2 = (int(v) for v in box)
    w, h = size
    width, height = frame
    left = min(max(x1, 0), max(width - w, 0))
    right = min(max(x2 - w, 0), max(width - w, 0))
    spots = [(left, y1 - h), (right, y1 - h), (left, y2), (right, y2), (left, y1)]
    return [(sx, sy) for sx, sy in dict.fromkeys(spots) if sy >= 0 and sy + h <= height]


def layout_labels(frame: FaceFrame, texts: list[tuple[str, str]], colours: list[tuple[int, int, int]], px: int,
                  image_size: tuple[int, int], first: int | None = None) -> list[PlacedLabel]:
    """Where each face's label goes: ``texts[i]`` is (full label, short label) for face ``i``.

    ``first`` (the selected student) gets its full label first; then every face gets its short
    label (the id) where one fits, the front row (larger faces) first; then each short label
    grows to the full one where that fits too. No two labels overlap."""
    order = sorted(range(len(frame)), key=lambda i: -(frame.xyxy[i, 2] - frame.xyxy[i, 0]))
    placed: dict[int, PlacedLabel] = {}

    def place(i: int, text: str) -> bool:
        if not text:
            return False
        patch = label_patch(text, colours[i], px)
        w, h = patch.shape[1], patch.shape[0]
        others = [p.rect for j, p in placed.items() if j != i]
        for x, y in _candidates(frame.xyxy[i], (w, h), image_size):
            if not any(_overlaps((x, y, x + w, y + h), rect) for rect in others):
                placed[i] = PlacedLabel(i, text, x, y, patch)
                return True
        return False

    if first is not None and 0 <= first < len(frame) and not place(first, texts[first][0]):
        place(first, texts[first][1])
    for i in order:
        if i not in placed and not place(i, texts[i][1]):
            place(i, texts[i][0])  # no short label (a face not confirmed yet): its reading alone
    for i in order:
        if i in placed and placed[i].text != texts[i][0]:
            short = placed.pop(i)
            if not place(i, texts[i][0]):
                placed[i] = short
    return list(placed.values())


def text_size(image_shape: tuple[int, ...]) -> int:
    """Label text height in pixels for a frame: readable at the frame's own size (18 px at 720p)."""
    return max(11, round(min(image_shape[:2]) / 40))


def draw_faces(image_bgr: np.ndarray, frame: FaceFrame, signals: Sequence[SignalFormat] = (), blur: bool = False,
               names: Mapping[int, str] | None = None, highlight: int | None = None) -> np.ndarray:
    """A copy of ``image_bgr`` with every face boxed and labelled (optionally blurred first).

    Each of ``signals`` (the pipeline's) adds its overlay text after the id; ``names`` maps
    student ids to names shown beside the id; the ``highlight`` student gets a white outer
    frame and the first pick of label places, so a user can find them in a crowded class.
    """
    out = image_bgr.copy()
    emotions = frame.emotions()
    thickness = max(1, round(min(out.shape[:2]) / 400))
    texts: list[tuple[str, str]] = []
    colours: list[tuple[int, int, int]] = []
    first = None
    for i, (x1, y1, x2, y2) in enumerate(frame.xyxy.astype(int)):
        if blur and x2 > x1 and y2 > y1:
            roi = out[max(y1, 0):y2, max(x1, 0):x2]
            if roi.size:
                k = max(3, (min(roi.shape[:2]) // 4) | 1)
                out[max(y1, 0):y2, max(x1, 0):x2] = cv2.GaussianBlur(roi, (k, k), 0)
        emotion = emotions[i] if emotions else ""
        b, g, r = colour_bgr(emotion) if emotion else (255, 255, 255)
        colour = (int(b), int(g), int(r))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness + 1)
        sid = int(frame.student_ids[i]) if frame.student_ids is not None else -1
        if highlight is not None and sid == highlight:
            pad = 2 * thickness + 2
            cv2.rectangle(out, (x1 - pad, y1 - pad), (x2 + pad, y2 + pad), (255, 255, 255), thickness + 1)
            first = i
        ident = student_label(sid, (names or {}).get(sid)) if sid > 0 else ""  # unconfirmed faces have no id yet
        signal_texts = [text for signal in signals if (text := signal.overlay_text(frame, i))]
        texts.append((" ".join([ident, *signal_texts]).strip(), f"#{sid}" if sid > 0 else ""))
        colours.append(colour)
    for label in layout_labels(frame, texts, colours, text_size(out.shape), (out.shape[1], out.shape[0]), first):
        _paste(out, label.patch, label.x, label.y)
    return out
