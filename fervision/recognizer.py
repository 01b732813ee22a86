"""``ExpressionRecognizer``: face crops in, emotion probabilities out.

The checkpoint decides the preprocessing (colour, resolution, normalisation), so callers
pass raw crops of any size and never need to know how the model was trained.

The shipped checkpoints are package data in ``fervision/checkpoints/`` (found with
:mod:`importlib.resources`, so a plain ``pip install`` has them too); ``$FERVISION_CHECKPOINTS``
names another folder to use instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from .checkpoint import CheckpointMeta, load_checkpoint
from .errors import CheckpointError
from .inference import predict_tensor, resolve_device
from .onnx_model import Runtime, cpu_runtime

DEFAULT_CHECKPOINT = "efficientnet_lite0_ferplus"
"""The checkpoint behind ``from_checkpoint("default")`` (see README: Choosing the default)."""


def checkpoint_dir() -> Path:
    """Where shipped checkpoints live: ``$FERVISION_CHECKPOINTS`` or the package's ``checkpoints/`` folder."""
    env = os.environ.get("FERVISION_CHECKPOINTS")
    # An installed or checked-out package is a folder on disk, so its resources are plain paths.
    return Path(env) if env else Path(str(resources.files("fervision") / "checkpoints"))


def list_checkpoints() -> list[str]:
    """Names of the shipped checkpoints (file stems in :func:`checkpoint_dir`)."""
    return _names_in(checkpoint_dir())


def _names_in(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.safetensors")) if folder.is_dir() else []


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """The checkpoint file meant by ``name_or_path``: a path, or a shipped checkpoint by name.

    It is a path when it ends in ``.safetensors`` or contains a folder separator
    (``runs/x/best.safetensors``, ``./mine.safetensors``, ``runs/x/best`` with the suffix left
    off); anything else is a shipped name (``default``, ``nca_mobilenet_ferplus``, …), looked up
    only in :func:`checkpoint_dir`, so a file or folder called ``default`` in the current folder
    never stands in for the shipped one. A path that does not exist is returned as it is, and
    loading it says so."""
    text = str(name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".safetensors":
        return path
    if _has_separator(text):
        with_suffix = path.with_name(path.name + ".safetensors")  # e.g. `runs/<name>/best`
        return with_suffix if not path.is_file() and with_suffix.is_file() else path
    name = DEFAULT_CHECKPOINT if text == "default" else text
    folder = checkpoint_dir()
    candidate = folder / f"{name}.safetensors"
    if not candidate.is_file():
        raise CheckpointError(_unknown_checkpoint_message(text, folder))
    return candidate


def _has_separator(text: str) -> bool:
    return any(sep in text for sep in {"/", os.sep, os.altsep or "/"})


def _unknown_checkpoint_message(name: str, folder: Path) -> str:
    """One sentence naming the checkpoints that really are in ``folder``, or where none were found."""
    shipped = _names_in(folder)
    known = (["default"] if DEFAULT_CHECKPOINT in shipped else []) + shipped
    asked = f"{name!r} ({DEFAULT_CHECKPOINT})" if name == "default" else repr(name)
    where = f"{folder}" + (" (from $FERVISION_CHECKPOINTS)" if os.environ.get("FERVISION_CHECKPOINTS") else "")
    local = next((f for f in (f"{name}.safetensors", name) if Path(f).is_file()), None)
    hint = f" (for the file {local} in this folder, write ./{local})" if local else ""
    if not known:
        return f"No checkpoint named {asked}: no .safetensors checkpoints found in {where}{hint}."
    return f"No checkpoint named {asked} in {where}; shipped ones are: {', '.join(known)}{hint}."


class ExpressionRecognizer:
    """Batched facial-expression recognition with a fervision checkpoint."""

    def __init__(self, model: torch.nn.Module, meta: CheckpointMeta, device: torch.device, batch_size: int = 64,
                 tta_flip: bool = False, runtime: Runtime = "auto") -> None:
        """``batch_size`` faces go through the model at once (at least 1); ``tta_flip`` averages each face
        with its mirror image: slightly more accurate, half the speed. ``runtime``: on a CPU the
        model runs on ONNX Runtime (``auto``, ``onnxruntime``) or torch (:mod:`.onnx_model`)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number of at least 1, not {batch_size!r}.")
        self.model = model
        self.meta = meta
        self.device = device
        self.batch_size = batch_size
        self.tta_flip = tta_flip
        pre = meta.preprocessing
        self._onnx = cpu_runtime(model, pre.in_chans, pre.input_size, runtime, device)

    @property
    def runtime(self) -> str:
        """What runs the network: ``onnxruntime`` or ``torch``."""
        return "torch" if self._onnx is None else "onnxruntime"

    @classmethod
    def from_checkpoint(cls, path_or_name: str | Path = "default", device: str = "auto",
                        **kwargs: object) -> ExpressionRecognizer:
        """Load a checkpoint file or a shipped one by name (``"default"``, ``"nca_mobilenet_ferplus"``, …)."""
        dev = resolve_device(device)
        model, meta = load_checkpoint(resolve_checkpoint(path_or_name), map_location=dev)
        return cls(model, meta, dev, **kwargs)  # type: ignore[arg-type]

    @property
    def labels(self) -> list[str]:
        return list(self.meta.labels)

    def _prepare(self, face: np.ndarray, index: int) -> np.ndarray:
        """One crop → uint8 ``[C, S, S]`` at the training faces' resolution, in the model's colour."""
        if face is None or isinstance(face, (str, bytes)):
            raise ValueError(f"face {index} is {_describe(face)}; each face must be a uint8 numpy array.")
        face = np.asarray(face)  # an array, or anything numpy reads as one (a PIL image)
        if face.ndim == 3 and face.shape[2] == 1:
            face = face[..., 0]  # HxWx1 is grey
        if (face.dtype != np.uint8 or face.ndim not in (2, 3) or (face.ndim == 3 and face.shape[2] != 3)
                or min(face.shape[:2], default=0) < 1):
            raise ValueError(f"face {index} is {_describe(face)}; each face must be a non-empty uint8 array, "
                             "HxW or HxWx1 (grey) or HxWx3 (RGB).")
        pre = self.meta.preprocessing
        if pre.color == "grey" and face.ndim == 3:
            face = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
        elif pre.color == "rgb" and face.ndim == 2:
            face = cv2.cvtColor(face, cv2.COLOR_GRAY2RGB)
        s = pre.source_size
        if face.shape[:2] != (s, s):
            shrink = face.shape[0] > s and face.shape[1] > s
            face = cv2.resize(face, (s, s), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return face[None] if face.ndim == 2 else face.transpose(2, 0, 1)

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities ``float32 [N, len(labels)]`` (rows sum to 1) for N face crops of any size.

        ``faces`` is a list (or other sequence) of uint8 crops, each HxW or HxWx1 (grey) or HxWx3
        (RGB), or one ``N×H×W×C`` array of same-size crops. A single face is ``[face]``: one HxW or
        HxWx3 array on its own is refused with a ``ValueError`` (its rows would be read as faces),
        as is anything that is not a sequence of faces.
        """
        if isinstance(faces, np.ndarray):
            if faces.ndim != 4:
                raise ValueError(f"predict takes a list of face crops (or an NxHxWxC array of them), not a single "
                                 f"{_describe(faces).removeprefix('an ')}; for one face, pass [face].")
        elif not isinstance(faces, Sequence) or isinstance(faces, (str, bytes)):
            raise ValueError(f"predict takes a list of face crops (uint8 arrays), not {_describe(faces)}.")
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        batch = torch.from_numpy(np.stack([self._prepare(f, i) for i, f in enumerate(faces)]))
        return predict_tensor(self._onnx or self.model, batch, self.meta.preprocessing, self.device,
                              batch_size=self.batch_size, tta_flip=self.tta_flip)


def _describe(value: object) -> str:
    """``an array of shape 48x48x3 (uint8)``, or what else it is (``None``, ``a str``)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {'x'.join(map(str, value.shape)) or '()'} ({value.dtype})"
    name = type(value).__name__
    return "None" if value is None else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
