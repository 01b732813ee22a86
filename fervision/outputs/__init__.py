"""Outputs that read a :class:`~fervision.engine.frame.FaceFrame`: overlays, files, plots."""
