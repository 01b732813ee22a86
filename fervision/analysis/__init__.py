"""The application layer: one lesson analysed end to end, for the CLI, the app and batch runs.

``loop.py`` is the one per-frame road (pipeline → sinks) every front end drives; ``annotate.py``
writes a lesson's files; ``session.py`` is the app's live session; ``still.py`` one photo.
"""
