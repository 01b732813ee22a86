import math

from fervision.core.clock import clock
from fervision.labels import colour_bgr, colour_hex
from fervision.outputs.report import clock as report_clock


def test_a_clock_counts_whole_seconds_passed_and_an_hour_gets_its_own_field():
    assert [clock(s) for s in (0, 19.96, 20.0, 61, 3599.9, 3600, 7322)] == [
        "0:00", "0:19", "0:20", "1:01", "59:59", "1:00:00", "2:02:02"]
    assert clock(-3) == clock(math.nan) == clock(math.inf) == "0:00"
    assert report_clock(19.96) == "0:20" and report_clock(math.nan) == "0:00"  # a report rounds a length


def test_one_colour_per_label_in_every_notation():
    b, g, r = colour_bgr("happiness")
    assert colour_hex("happiness") == f"#{r:02x}{g:02x}{b:02x}" == "#ffd700"
    assert colour_hex("a label no model has").startswith("#") and len(colour_hex("x")) == 7
