"""Sinks and drawings that read a :class:`~fervision.core.frame.FaceFrame`: overlays, files, plots.

Outputs import only `core` (and each other): never detectors, models or the engine."""
