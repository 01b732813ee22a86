"""Names in any script: the overlay draws Chinese, Japanese and Korean names in an installed font
that has them (DejaVu Sans has none), Arabic joined and right to left, and says once which
characters no installed font has."""

import logging
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

from fervision.outputs import overlay
from fervision.outputs.overlay import FontChain, font_chain, label_patch, visual_order

COLOUR = (200, 200, 200)
EDGE = 3  # label_patch's coloured margin on each side
BOXES = "\u0378\u0379\u0380"  # unassigned code points: every font draws its "missing" box (notdef)
CJK = "王小明李小红김민준"
NO_CJK_FONT = ("no installed font has Chinese and Korean letters (on Debian or Ubuntu: "
               "apt install fonts-wqy-microhei, or fonts-noto-cjk)")


def _cjk_font_or_skip():
    chain = font_chain()
    chain.cover(CJK)
    if any(chain.font_for(ch) is None for ch in CJK):
        pytest.skip(NO_CJK_FONT)


def _inner(patch):
    return patch[:, EDGE:-EDGE]


def test_chinese_and_korean_names_are_drawn_not_boxes():
    _cjk_font_or_skip()
    boxes = label_patch(BOXES, COLOUR, 18)
    chinese, other, korean = (label_patch(name, COLOUR, 18) for name in ("王小明", "李小红", "김민준"))
    assert not np.array_equal(chinese, boxes) and not np.array_equal(korean, boxes)  # real glyphs, not notdef
    assert not np.array_equal(chinese, other)  # two names, two drawings (boxes would be alike)
    assert chinese.shape[0] == label_patch("Ana", COLOUR, 18).shape[0]  # one line height: labels still line up
    assert (_inner(chinese) < 128).mean() > 0.05  # ink, not an empty patch


def test_a_label_mixes_fonts_on_one_baseline():
    _cjk_font_or_skip()
    mixed = label_patch("#3 王小明 happiness 87%", COLOUR, 18)
    alone = label_patch("#3 happiness 87%", COLOUR, 18)
    assert mixed.shape[0] == alone.shape[0] and mixed.shape[1] > alone.shape[1]
    assert np.array_equal(mixed[:, :EDGE + 20], alone[:, :EDGE + 20])  # "#3" drawn as before


def test_the_font_search_works_without_fontconfig(monkeypatch):
    """Windows and macOS have no fc-match: the installed fonts themselves are searched."""
    _cjk_font_or_skip()
    monkeypatch.setattr(overlay.shutil, "which", lambda name: None)

    def no_subprocess(*args, **kwargs):
        raise AssertionError("fontconfig asked for")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    chain = FontChain(overlay._font_file())
    chain.cover("王김")
    assert chain.font_for("王") not in (None, chain.primary) and chain.font_for("김") not in (None, chain.primary)
    assert chain.font_for("a") == chain.primary  # DejaVu first, for what it has


@pytest.mark.skipif(not features.check("raqm"), reason="Pillow was built without raqm (no text shaping)")
@pytest.mark.parametrize("name", ["محمد", "שרה"])
def test_arabic_and_hebrew_are_shaped_right_to_left(name):
    px = 18
    path = font_chain().primary
    assert all(font_chain().font_for(ch) == path for ch in name)  # DejaVu Sans has them

    def drawn(layout):
        font = ImageFont.truetype(path, px, layout_engine=layout)
        ascent, descent = font.getmetrics()
        image = Image.new("RGB", (int(np.ceil(font.getlength(name))), ascent + descent + 2), (200, 200, 200))
        ImageDraw.Draw(image).text((0, 1 + ascent), name, fill=(0, 0, 0), font=font, anchor="ls")
        return np.asarray(image)[:, :, ::-1]

    shaped, basic = drawn(ImageFont.Layout.RAQM), drawn(ImageFont.Layout.BASIC)
    patch = _inner(label_patch(name, COLOUR, px))
    assert np.array_equal(patch, shaped)
    assert shaped.shape != basic.shape or not np.array_equal(shaped, basic)  # joined / reversed, not letter by letter


def test_a_right_to_left_name_shows_its_words_right_to_left():
    assert visual_order(["#6", "محمد", "علي", "happiness", "87%"]) == ["#6", "علي", "محمد", "happiness", "87%"]
    assert visual_order(["#7", "שרה", "2", "כהן", "55%"]) == ["#7", "כהן", "2", "שרה", "55%"]
    assert visual_order(["#3", "José", "Núñez", "87%"]) == ["#3", "José", "Núñez", "87%"]
    first, second = (_inner(label_patch(w, COLOUR, 18)) for w in ("محمد", "علي"))
    full = _inner(label_patch("محمد علي", COLOUR, 18))
    assert np.array_equal(full[:, : second.shape[1]], second)  # the second name on the left
    assert np.array_equal(full[:, -first.shape[1]:], first)  # the first on the right, where reading starts


def test_latin_greek_cyrillic_stay_in_dejavu():
    chain = font_chain()
    assert all(chain.font_for(ch) == chain.primary for ch in "José Núñez Дарья Ωμέγα" if ch != " ")


def test_characters_no_font_has_are_boxes_and_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="fervision.outputs.overlay"):
        patch = label_patch("Ana\u0381", COLOUR, 18)
        label_patch("Bo\u0381", COLOUR, 18)
    warnings = [r.getMessage() for r in caplog.records if "U+0381" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once, not once a label or a frame
    assert "fonts-noto" in warnings[0]
    assert patch.shape[1] > label_patch("Ana", COLOUR, 18).shape[1]  # the rest drawn, with a box for it
