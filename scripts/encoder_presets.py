"""How fast libx264 encodes a clip at each preset, how big the file gets and how close it stays.

The annotated video is encoded on the same cores as the analysis, so the encoder's cost sets a
floor under a frame's time (README, "Throughput"). For each clip: the first N frames encoded with
PyAV at crf 23 with each preset, as ``VideoWriter`` does, then frames per second (encoding alone),
the size an hour of such video would take, and the mean PSNR of the first 30 decoded frames
against the source.

    python scripts/encoder_presets.py ../shared/data/media/pedestrians_1080p.mp4 \
        ../shared/data/media/classroom_pan_720p.mp4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

PRESETS = ("veryfast", "superfast", "ultrafast")


def read_frames(path: str, count: int) -> tuple[list[np.ndarray], float]:
    """The first ``count`` frames (cut to even sizes, as the writer does) and the clip's frame rate."""
    capture = cv2.VideoCapture(path)
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2])
    capture.release()
    if not frames:
        raise SystemExit(f"{path}: no frames could be read")
    return frames, fps


def encode(frames: list[np.ndarray], preset: str, target: Path, fps: int = 25) -> float:
    """Seconds spent encoding ``frames`` (already converted to YUV, as the writer does) into ``target``."""
    yuv = [cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420) for f in frames]
    container = av.open(str(target), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.height, stream.width = frames[0].shape[:2]
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": "23", "preset": preset, "g": str(2 * fps)}
    start = time.perf_counter()
    for picture in yuv:
        for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="yuv420p")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    seconds = time.perf_counter() - start
    container.close()
    return seconds


def psnr(frames: list[np.ndarray], encoded: Path, count: int = 30) -> float:
    capture = cv2.VideoCapture(str(encoded))
    values = []
    for frame in frames[:count]:
        ok, decoded = capture.read()
        if not ok:
            break
        values.append(cv2.PSNR(frame, decoded))
    capture.release()
    return float(np.mean(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    print("| clip | preset | encode fps | GB per hour | PSNR (dB) |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for clip in args.clips:
            frames, fps = read_frames(clip, args.frames)
            for preset in PRESETS:
                target = Path(folder) / f"{preset}.mp4"
                seconds = encode(frames, preset, target, round(fps))
                gb_per_hour = target.stat().st_size / len(frames) * fps * 3600 / 1e9
                print(f"| {Path(clip).name} | {preset} | {len(frames) / seconds:.0f} | {gb_per_hour:.2f} | "
                      f"{psnr(frames, target):.1f} |")


if __name__ == "__main__":
    main()
