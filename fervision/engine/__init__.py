"""The video road: frames in → faces found → (students followed) → expressions read → outputs.

Nothing here imports Qt; the GUI builds on these modules.
"""
