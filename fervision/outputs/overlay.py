"""Overlay drawing: a box per face in its emotion's colour, its id (and name) and each signal's
overlay text (``happiness 87%`` for the expression).

Text is drawn with FreeType (Pillow) in DejaVu Sans, the font matplotlib ships, so a name a
teacher types in a Latin, Greek, Cyrillic, Arabic or Hebrew script renders ("José Núñez";
OpenCV's own font is ASCII-only); shaped and right to left where Pillow has raqm. A character
DejaVu lacks (Chinese, Japanese, Korean) is drawn in an installed font that has it (see
``FontChain``). Labels never cover each other: each is placed above its face, below it or inside its
top edge, wherever it is free; in a crowded class most show the id alone (the full label where
there is room), and a face whose id does not fit either keeps its coloured box only. The
highlighted (selected) student gets the full label first.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from ..core.frame import HEAD_POSE, FaceFrame
from ..core.signal_format import SignalFormat
from ..labels import colour_bgr
from .record import student_label

log = logging.getLogger(__name__)

# raqm shapes joined scripts (Arabic) and lays out right-to-left ones; without it letters stand apart
LAYOUT = ImageFont.Layout.RAQM if features.check_feature("raqm") else ImageFont.Layout.BASIC
# Fonts tried first (file names, lower case, as a part) when fontconfig is not there to choose:
# Windows' and macOS's fonts for Chinese, Japanese and Korean, then broad sans fonts.
PREFERRED_FONTS = ("notosanscjk", "droidsansfallback", "wqy-microhei", "msyh", "yugoth", "meiryo", "malgun",
                   "msgothic", "simsun", "pingfang", "hiragino", "applesdgothicneo", "arial unicode", "notosans",
                   "segoeui", "tahoma", "arial")
_STYLES = ("bold", "italic", "oblique", "light", "thin", "black", "heavy", "mono", "serif", "condensed")
_FONTCONFIG_TOP = 8  # fontconfig's best matches looked at for a set of characters


@lru_cache(maxsize=1)
def _font_file() -> Path:
    import matplotlib  # only for the path of its bundled DejaVu Sans

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def _charmap(path: str) -> frozenset[int] | None:
    """The code points a font file (its first face) has glyphs for; ``None`` when it cannot be read."""
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return None


def _needs_glyph(ch: str) -> bool:
    """Controls, format marks (joiners, direction marks) and spaces draw nothing of their own."""
    return unicodedata.category(ch) not in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _is_cjk(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return any(part in name for part in ("CJK", "HANGUL", "HIRAGANA", "KATAKANA", "BOPOMOFO", "IDEOGRAPH"))


def _fontconfig_fonts(chars: set[str]) -> list[str]:
    """fontconfig's best sans-serif fonts for ``chars`` (Linux, BSD; also where installed on macOS)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    charset = " ".join(f"{ord(ch):x}" for ch in sorted(chars))
    try:
        listed = subprocess.run([fc_match, "-s", "--format=%{file}\\n", f"sans-serif:charset={charset}"],
                                capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in listed.splitlines() if line][:_FONTCONFIG_TOP]


def _system_fonts() -> list[str]:
    """Every installed font file (matplotlib looks in each system's font folders), likeliest first:
    the ``PREFERRED_FONTS``, then regular sans faces before bold, italic, serif or mono ones."""
    from matplotlib import font_manager

    def rank(path: str) -> tuple[int, int, str]:
        name = Path(path).name.lower().replace(" ", "")
        preferred = next((k for k, part in enumerate(PREFERRED_FONTS) if part.replace(" ", "") in name),
                         len(PREFERRED_FONTS))
        return preferred, sum(style in name for style in _STYLES), name

    return sorted(font_manager.findSystemFonts(), key=rank)


class FontChain:
    """DejaVu Sans, then each installed font found to have a character it lacks, in the order found.

    A character no font in the chain has is looked for once (with the others of its label): among
    fontconfig's choices, then among all installed fonts (so Windows' and macOS's fonts count
    too). A character no installed font has is drawn as DejaVu's box, and one warning names it."""

    def __init__(self, primary: Path) -> None:
        self.fonts: list[tuple[str, frozenset[int]]] = [(str(primary), _charmap(str(primary)) or frozenset())]
        self.missing: set[str] = set()
        self._lock = threading.Lock()

    @property
    def primary(self) -> str:
        return self.fonts[0][0]

    def font_for(self, ch: str) -> str | None:
        """The first font of the chain that has ``ch``, ``None`` when none has (yet)."""
        code = ord(ch)
        return next((path for path, cmap in self.fonts if code in cmap), None)

    def has(self, path: str, ch: str) -> bool:
        return any(p == path and ord(ch) in cmap for p, cmap in self.fonts)

    def cover(self, text: str) -> None:
        """Add to the chain the fonts that ``text``'s characters need, and warn once about those none has."""
        wanted = {ch for ch in text if _needs_glyph(ch) and ch not in self.missing and self.font_for(ch) is None}
        if not wanted:
            return
        with self._lock:
            wanted = {ch for ch in wanted if ch not in self.missing and self.font_for(ch) is None}
            if not wanted:
                return
            known = {path for path, _ in self.fonts}
            for path in self._candidates(wanted):
                if path in known:
                    continue
                known.add(path)
                cmap = _charmap(path)
                if cmap and any(ord(ch) in cmap for ch in wanted):
                    self.fonts.append((path, cmap))
                    wanted = {ch for ch in wanted if ord(ch) not in cmap}
                    if not wanted:
                        return
            self.missing |= wanted
        package = "fonts-noto-cjk or fonts-wqy-microhei" if any(map(_is_cjk, wanted)) else "fonts-noto-core"
        them = "it" if len(wanted) == 1 else "them"
        log.warning("fervision: no installed font has %s; the overlay draws %s as boxes. Install a font that has "
                    "%s (on Debian or Ubuntu: apt install %s).",
                    ", ".join(f"{ch} (U+{ord(ch):04X})" for ch in sorted(wanted)), them, them, package)

    @staticmethod
    def _candidates(chars: set[str]) -> Iterator[str]:
        yield from _fontconfig_fonts(chars)
        yield from _system_fonts()


@lru_cache(maxsize=1)
def font_chain() -> FontChain:
    return FontChain(_font_file())


@lru_cache(maxsize=64)
def _font(px: int, path: str | None = None) -> ImageFont.FreeTypeFont:
    """The main font at ``px``, or ``path`` at ``px`` (the main one where FreeType cannot size it,
    as a colour-bitmap emoji font at any size but its own)."""
    if path is not None and path != font_chain().primary:
        try:
            return ImageFont.truetype(path, px, layout_engine=LAYOUT)
        except OSError:
            pass
    return ImageFont.truetype(font_chain().primary, px, layout_engine=LAYOUT)


def _strong_direction(text: str) -> str | None:
    """``"rtl"`` or ``"ltr"`` from the first strongly directed letter; ``None`` for digits and signs alone."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def _runs(word: str) -> list[tuple[str, str]]:
    """``word`` cut into (text, font file) runs, left to right as drawn.

    A combining mark stays with its letter when that letter's font has it. Each run is shaped
    and ordered by raqm; a right-to-left word puts its runs right to left too."""
    chain = font_chain()
    chain.cover(word)
    runs: list[tuple[str, str]] = []
    for ch in word:
        joins = runs and (not _needs_glyph(ch) or (unicodedata.combining(ch) and chain.has(runs[-1][1], ch)))
        path = runs[-1][1] if joins else chain.font_for(ch) or chain.primary
        if runs and runs[-1][1] == path:
            runs[-1] = (runs[-1][0] + ch, path)
        else:
            runs.append((ch, path))
    if len(runs) > 1 and _strong_direction(word) == "rtl":
        runs.reverse()
    return runs


def visual_order(words: Sequence[str]) -> list[str]:
    """A label's words as drawn, left to right: the label reads left to right ("#3 name happiness"),
    but a name in a right-to-left script ("محمد علي") shows its words right to left (with the
    digits and signs between them), as Unicode's bidirectional algorithm shows a name set apart
    (isolated) from the text around it; each word's letters are ordered when it is drawn."""
    out: list[str] = []
    group: list[str] = []  # right-to-left words (and the neutral ones between them)
    pending: list[str] = []  # neutral words after the group: they join it only if another RTL word follows
    for word in words:
        direction = _strong_direction(word)
        if direction == "rtl":
            group += [*pending, word]
            pending = []
        elif direction is None and group:
            pending.append(word)
        else:
            out += [*reversed(group), *pending, word]
            group, pending = [], []
    return [*out, *reversed(group), *pending]


@lru_cache(maxsize=4096)
def _word(word: str, colour: tuple[int, int, int], px: int) -> np.ndarray:
    """One word, black on ``colour`` (BGR), as tall as the main font's line (every run on its baseline)."""
    ascent, descent = _font(px).getmetrics()
    runs = [(text, _font(px, path)) for text, path in _runs(word)]
    widths = [int(np.ceil(font.getlength(text))) for text, font in runs]
    image = Image.new("RGB", (max(1, sum(widths)), ascent + descent + 2), tuple(reversed(colour)))
    draw = ImageDraw.Draw(image)
    x = 0
    for (text, font), width in zip(runs, widths, strict=True):
        draw.text((x, 1 + ascent), text, fill=(0, 0, 0), font=font, anchor="ls")
        x += width
    return np.asarray(image)[:, :, ::-1]


@lru_cache(maxsize=4096)
def label_patch(text: str, colour: tuple[int, int, int], px: int) -> np.ndarray:
    """The label as a small opaque BGR image (black anti-aliased text on the emotion's colour).

    Rendering text is the costly part of drawing (~0.7 ms a label with FreeType); labels repeat
    from frame to frame and are made of few distinct words ("#3", "neutral", "63%"), so each word
    is rendered once and labels are put together from them.
    """
    words = [_word(w, colour, px) for w in visual_order([w for w in text.split(" ") if w])]
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


HEAD_MARKS_MAX_FACES = 8
"""Head-direction marks are drawn by default only on frames with at most this many faces (in a
class of 25 they are clutter); ``head_marks=True`` draws them on every frame."""


def _head_mark(out: np.ndarray, box: np.ndarray, pose: np.ndarray, colour: tuple[int, int, int],
               thickness: int) -> None:
    """An arrow from the face's centre the way the nose points, as seen in the picture (a head
    turned to the student's left points right; looking up points up); longer the more it turns."""
    yaw, pitch = np.radians(pose[:2])
    x1, y1, x2, y2 = box
    length = 0.9 * (x2 - x1)
    start = ((x1 + x2) / 2, (y1 + y2) / 2)
    end = (start[0] + length * np.sin(yaw) * np.cos(pitch), start[1] - length * np.sin(pitch))
    cv2.arrowedLine(out, (round(start[0]), round(start[1])), (round(end[0]), round(end[1])), colour,
                    thickness + 1, cv2.LINE_AA, tipLength=0.3)


def scaled(image_bgr: np.ndarray, faces: FaceFrame, size: tuple[int, int]) -> tuple[np.ndarray, FaceFrame]:
    """The frame resized to ``size`` (width, height) and its faces' boxes moved with it."""
    h, w = image_bgr.shape[:2]
    if (w, h) == size:
        return image_bgr, faces
    shrink = size[0] < w
    image = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    factor = np.array([size[0] / w, size[1] / h] * 2, np.float32)
    return image, replace(faces, xyxy=faces.xyxy * factor)


BLUR_KERNEL_SHARE = 0.5
"""A blurred face's Gaussian kernel is this share of the face box's smaller side (sigma about a
twelfth of the face): eyes, mouth and their shapes are gone, the face's place and colour remain."""


def _blur_in_place(image_bgr: np.ndarray, box: tuple[int, int, int, int]) -> None:
    x1, y1, x2, y2 = box
    roi = image_bgr[max(y1, 0):y2, max(x1, 0):x2]
    if x2 > x1 and y2 > y1 and roi.size:
        k = max(3, int(min(roi.shape[:2]) * BLUR_KERNEL_SHARE) | 1)
        image_bgr[max(y1, 0):y2, max(x1, 0):x2] = cv2.GaussianBlur(roi, (k, k), 0)


def blur_boxes(image_bgr: np.ndarray, boxes: Iterable[np.ndarray]) -> np.ndarray:
    """A copy with each box blurred as :func:`draw_faces` blurs a face (for faces it does not draw,
    such as the students a user hid in the app)."""
    out = image_bgr.copy()
    for box in boxes:
        x1, y1, x2, y2 = (int(v) for v in np.asarray(box).astype(int))
        _blur_in_place(out, (x1, y1, x2, y2))
    return out


def draw_faces(image_bgr: np.ndarray, frame: FaceFrame, signals: Sequence[SignalFormat] = (), blur: bool = False,
               names: Mapping[int, str] | None = None, highlight: int | None = None,
               head_marks: bool | None = None) -> np.ndarray:
    """A copy of ``image_bgr`` with every face boxed and labelled (optionally blurred first).

    Each of ``signals`` (the pipeline's) adds its overlay text after the id; ``names`` maps
    student ids to names shown beside the id; the ``highlight`` student gets a white outer
    frame and the first pick of label places, so a user can find them in a crowded class.
    ``head_marks`` draws each known head direction as an arrow (None: only on frames with at most
    :data:`HEAD_MARKS_MAX_FACES` faces, and the highlighted student's always).
    """
    out = image_bgr.copy()
    emotions = frame.emotions()
    poses = frame.data.get(HEAD_POSE) if head_marks is not False else None
    thickness = max(1, round(min(out.shape[:2]) / 400))
    texts: list[tuple[str, str]] = []
    colours: list[tuple[int, int, int]] = []
    first = None
    for i, (x1, y1, x2, y2) in enumerate(frame.xyxy.astype(int)):
        if blur:
            _blur_in_place(out, (x1, y1, x2, y2))
        emotion = emotions[i] if emotions else ""
        b, g, r = colour_bgr(emotion) if emotion else (255, 255, 255)
        colour = (int(b), int(g), int(r))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness + 1)
        sid = int(frame.student_ids[i]) if frame.student_ids is not None else -1
        if poses is not None and np.isfinite(poses[i, :2]).all() and (
                head_marks or (head_marks is None and (len(frame) <= HEAD_MARKS_MAX_FACES or sid == highlight))):
            _head_mark(out, frame.xyxy[i], poses[i], colour, thickness)
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
