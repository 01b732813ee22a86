"""A built wheel works anywhere: installed into a fresh virtual environment, its ``fervision``
command finds the shipped checkpoints and YuNet's ONNX file inside the package, run from a folder
outside the repository.

The package is built as ``python -m build`` would, without the network: an sdist from a copy of the
sources (so no ``build/`` folder with stale files is left in, or reused from, the checkout), then the
wheel from that sdist (which checks the sdist is complete). The fresh environment gets the
dependencies by a ``.pth`` line naming this environment's site-packages; the ``.pth`` files inside
those are not run, so the checkout's editable install stays out of the way (asserted below).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import cv2
import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

# What the sdist is built from (pyproject.toml names the readme and the licence file).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "fervision")
SHIPPED = sorted(p.name for p in (ROOT / "fervision" / "checkpoints").iterdir()
                 if p.suffix in (".safetensors", ".json", ".md", ".onnx"))


def _run(cmd: list[str], timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built from the checkout's sources."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    hook = "import sys, setuptools.build_meta as b; print(b.build_sdist(sys.argv[1]))"
    _run([sys.executable, "-c", hook, str(work / "sdist")], cwd=src)
    (sdist,) = (work / "sdist").glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "unpacked", filter="data")
    (unpacked,) = (work / "unpacked").iterdir()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(work / "wheel"), str(unpacked)])
    (wheel,) = (work / "wheel").glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(dists: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; its dependencies come from this environment."""
    env_dir = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)])
    python = env_dir / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(_run([str(python), "-c", where]).stdout.strip())
    (purelib / "_test_dependencies.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(dists[1])])
    return env_dir


def _clean_env() -> dict[str, str]:
    """No display, no overrides: the installed package must find everything by itself."""
    # QT_QPA_PLATFORM too: the app tests set it to "offscreen", which the no-display check trusts as a display
    drop = {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "FERVISION_CHECKPOINTS", "FERVISION_YUNET",
            "PYTHONPATH", "PYTHONHOME"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder outside the repository."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert ROOT not in folder.resolve().parents
    return folder


def test_wheel_and_sdist_hold_the_weights(dists: tuple[Path, Path]) -> None:
    sdist, wheel = dists
    assert len([n for n in SHIPPED if n.endswith(".safetensors")]) >= 4
    assert "face_detection_yunet_2023mar_anysize.onnx" in SHIPPED
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        metadata = whl.read("fervision-0.1.0.dist-info/METADATA").decode()
        for name in SHIPPED:  # the same files, byte for byte in size
            size = (ROOT / "fervision" / "checkpoints" / name).stat().st_size
            assert whl.getinfo(f"fervision/checkpoints/{name}").file_size == size
    assert "fervision/py.typed" in names and "fervision-0.1.0.dist-info/licenses/LICENSE" in names
    assert "License-Expression: Apache-2.0" in metadata
    with tarfile.open(sdist) as tar:
        members = {Path(m).relative_to(Path(m).parts[0]).as_posix() for m in tar.getnames() if len(Path(m).parts) > 1}
    assert {f"fervision/checkpoints/{n}" for n in SHIPPED} | {"LICENSE", "fervision/py.typed"} <= members


def test_installed_package_is_the_wheel_not_the_checkout(venv: Path, elsewhere: Path) -> None:
    probe = ("import fervision, sysconfig\n"
             "from fervision.recognizer import checkpoint_dir, list_checkpoints\n"
             "from fervision.engine.detectors.yunet import find_yunet\n"
             "print(sysconfig.get_paths()['purelib']); print(fervision.__file__)\n"
             "print(checkpoint_dir()); print(find_yunet()); print(','.join(list_checkpoints()))\n")
    out = _run([str(venv / "bin" / "python"), "-c", probe], cwd=elsewhere, env=_clean_env()).stdout.splitlines()
    purelib, package, folder, yunet, names = out
    assert Path(package) == Path(purelib) / "fervision" / "__init__.py"
    assert Path(folder) == Path(purelib) / "fervision" / "checkpoints"
    assert Path(yunet) == Path(folder) / "face_detection_yunet_2023mar_anysize.onnx"
    assert names.split(",") == sorted(n.removesuffix(".safetensors") for n in SHIPPED if n.endswith(".safetensors"))


def test_recognize_outside_the_repository(venv: Path, elsewhere: Path) -> None:
    image = ROOT / "assets" / "sample_face_pexels.jpg"
    out = elsewhere / "out"
    result = _run([str(venv / "bin" / "fervision"), "recognize", str(image), "--output", str(out), "--device", "cpu"],
                  cwd=elsewhere, env=_clean_env())
    assert "1 face(s)" in result.stdout
    assert (out / "sample_face_pexels_annotated.jpg").stat().st_size > 10_000
    assert len((out / "sample_face_pexels_faces.csv").read_text().splitlines()) == 2


@pytest.fixture
def clip(elsewhere: Path) -> Path:
    """The first 10 frames of the bundled sample video."""
    source = cv2.VideoCapture(str(ROOT / "assets" / "sample_pexels.mp4"))
    fps = source.get(cv2.CAP_PROP_FPS)
    frames = [source.read()[1] for _ in range(10)]
    source.release()
    path = elsewhere / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def test_annotate_and_gui_without_display_outside_the_repository(venv: Path, elsewhere: Path, clip: Path) -> None:
    fervision = str(venv / "bin" / "fervision")
    result = _run([fervision, "annotate", str(clip), "--output", "annotated", "--device", "cpu"],
                  cwd=elsewhere, env=_clean_env())
    assert "clip.mp4: 10 frames (10 analysed)" in result.stdout
    for kind in ("faces.csv", "students.csv", "class.csv", "annotated.mp4", "timeline.png"):
        assert (elsewhere / "annotated" / f"clip_{kind}").stat().st_size > 0
    # Without a display, `gui SOURCE` annotates into runs/<stem> of the working folder instead.
    result = _run([fervision, "gui", str(clip), "--device", "cpu"], cwd=elsewhere, env=_clean_env())
    assert "No display found" in result.stdout and "clip.mp4: 10 frames" in result.stdout
    assert (elsewhere / "runs" / "clip" / "clip_annotated.mp4").stat().st_size > 0
