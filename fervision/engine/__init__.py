"""The video road's stages: frames in → faces found → students followed → signals read → smoothed.

Sources, detectors, the tracker, per-face signals, the scheduler and the smoother, and the
``Pipeline`` that runs them in order. Nothing here imports Qt or any output; outputs and the
application layer build on these modules.
"""
