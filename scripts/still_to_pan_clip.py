"""Make a 720p test clip from a still photo: the photo scaled to 1280 px wide, and a
1280x720 window panning slowly down it at 25 fps. Used to measure `fervision bench video`
on a class of ~30 (a photo with that many faces; our only real classroom clip has 20).

    python scripts/still_to_pan_clip.py PHOTO OUT.mp4 [--seconds 10]

The clip is a measurement aid, never committed: the photos we have are not ours to share.
"""

from __future__ import annotations

import argparse

import cv2

from fervision.outputs.video import H264Writer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo")
    parser.add_argument("output")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    image = cv2.imread(args.photo)
    if image is None:
        raise SystemExit(f"{args.photo} is not an image OpenCV can read.")
    scale = 1280 / image.shape[1]
    image = cv2.resize(image, (1280, max(720, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    frames = round(args.seconds * 25)
    travel = image.shape[0] - 720
    with H264Writer(args.output, 25.0, (1280, 720)) as writer:
        for i in range(frames):
            top = round(travel * i / max(frames - 1, 1))
            writer.write(image[top: top + 720], i / 25)
    print(f"wrote {args.output}: {frames} frames, 1280x720, 25 fps, panning {travel} px")


if __name__ == "__main__":
    main()
