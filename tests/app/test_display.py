from fervision.app.display import has_display


def test_display_detection(tmp_path):
    assert has_display({}, platform="win32") and has_display({}, platform="darwin")
    assert not has_display({}, platform="linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, platform="linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux")
    assert has_display({"DISPLAY": "remote:10.0"}, platform="linux")  # ssh -X: trusted
    assert not has_display({"DISPLAY": ":987"}, platform="linux")  # no X server socket for :987
