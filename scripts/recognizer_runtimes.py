"""The recogniser's time per ``predict`` call on torch and on ONNX Runtime, at the batch sizes a
lesson gives (a once-a-second refresh reads about ten faces; every face every frame, 20-40).

Both runtimes are loaded in one process and measured alternately, two rounds, 1.5 s each, on
random 60x60 crops (crop resizing included), so a drifting machine affects both alike.

    python scripts/recognizer_runtimes.py [CHECKPOINT ...]   (default: the default checkpoint)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fervision.recognizer import ExpressionRecognizer

BATCHES = (1, 5, 10, 20, 32)


def ms_per_call(recognizer: ExpressionRecognizer, faces: list[np.ndarray], seconds: float = 1.5) -> float:
    recognizer.predict(faces)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        recognizer.predict(faces)
        calls += 1
    return (time.perf_counter() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="*", default=["default"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| checkpoint | faces a call | torch ms (2 rounds) | ONNX Runtime ms (2 rounds) |\n|---|---|---|---|")
    for name in args.checkpoints:
        runtimes = {rt: ExpressionRecognizer.from_checkpoint(name, device="cpu", runtime=rt)
                    for rt in ("torch", "onnxruntime")}
        for batch in BATCHES:
            faces = [rng.integers(0, 256, (60, 60, 3), dtype=np.uint8) for _ in range(batch)]
            times: dict[str, list[float]] = {rt: [] for rt in runtimes}
            for _ in range(2):
                for rt, recognizer in runtimes.items():
                    times[rt].append(ms_per_call(recognizer, faces))
            print(f"| {name} | {batch} | " + " | ".join("/".join(f"{t:.1f}" for t in times[rt]) for rt in runtimes)
                  + " |")


if __name__ == "__main__":
    main()
