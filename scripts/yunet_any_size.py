"""Write YuNet's ONNX file with a free input height and width, for ONNX Runtime.

opencv_zoo publishes face_detection_yunet_2023mar.onnx with a fixed 1x3x640x640 input; OpenCV's
DNN ignores that and runs any size, but ONNX Runtime checks it. The graph itself has no fixed
size (its reshapes use -1 and its resizes use scales), so naming the input's height and width
``height``/``width`` and dropping the stored intermediate shapes (which were inferred for 640x640)
is the whole change. The weights and nodes are untouched; the result ships beside the original as
fervision/checkpoints/face_detection_yunet_2023mar_anysize.onnx (MIT, as the original).

Needs the ``onnx`` package, which fervision itself does not (``pip install onnx``):

    python scripts/yunet_any_size.py fervision/checkpoints/face_detection_yunet_2023mar.onnx \
        fervision/checkpoints/face_detection_yunet_2023mar_anysize.onnx
"""

from __future__ import annotations

import argparse

import onnx


def any_size(model: onnx.ModelProto) -> onnx.ModelProto:
    (image,) = model.graph.input
    dims = image.type.tensor_type.shape.dim
    if len(dims) != 4:
        raise SystemExit(f"expected one NCHW input, found {len(dims)} dimensions")
    for dim, name in zip(dims[2:], ("height", "width"), strict=True):
        dim.Clear()
        dim.dim_param = name
    del model.graph.value_info[:]
    for output in model.graph.output:  # [1, anchors, k]: the anchor count follows the input size
        output.type.tensor_type.shape.dim[1].Clear()
        output.type.tensor_type.shape.dim[1].dim_param = "anchors"
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args()
    onnx.save(any_size(onnx.load(args.source)), args.target)


if __name__ == "__main__":
    main()
