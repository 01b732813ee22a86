"""What a lesson was analysed with, in the words the lesson report prints.

``annotate``, ``batch`` and the app's Report… button describe their runs the same way, so two
reports of one lesson can be compared line by line.
"""

from __future__ import annotations

from ..engine.config import PipelineConfig
from ..engine.pipeline import Pipeline


def run_settings(source_name: str, config: PipelineConfig, pipeline: Pipeline, analysed: str,
                 blur_faces: bool) -> list[tuple[str, str]]:
    """(setting, value) rows: the source, model, device, detector, which frames were analysed
    (``analysed``, e.g. "every frame"), head direction and whether faces were blurred."""
    head = "off" if "head_pose" not in config.signals else f"on ({config.head_pose_landmarks} landmarks)"
    return [("source", source_name), ("model", f"{config.model} ({pipeline.recognizer.meta.model})"),
            ("device", str(pipeline.recognizer.device)), ("face detector", config.detector),
            ("analysed", analysed), ("head direction", head),
            ("faces blurred in the video", "yes" if blur_faces else "no")]


def front_rule(config: PipelineConfig) -> str:
    """How the front of the room was decided, for the report's facing-front column."""
    if config.front is not None:
        return f"given: yaw {config.front[0]:g}°, pitch {config.front[1]:g}°, within {config.facing_cone_deg:g}°"
    return f"learned from the class (the direction most students face), within {config.facing_cone_deg:g}°"
