"""Sinks and drawings that read a :class:`~fervision.core.frame.FaceFrame`: overlays, files, plots.

Outputs import only `core` (and each other): never detectors, models or the engine."""

VIDEO_MAX_SIDE = 1280
"""``annotate``'s annotated video is at most this many pixels on its longer side by default: libx264
encodes a 1080p frame 3-5x slower than a 720p one (``python scripts/encoder_presets.py``: 21 vs
103 fps alone on 2 cores), which held 1080p analysis under half real time; the analysis itself
still sees the whole frame. ``--video-max-side 0`` keeps the source's size."""
