import numpy as np
import pytest
import torch

from fervision.checkpoint import load_checkpoint, read_metadata
from fervision.cli import main
from fervision.data import load_dataset
from fervision.errors import DataError, FervisionError
from fervision.inference import predict_tensor
from fervision.training import train
from fervision.training.initial_weights import reading_form
from fervision.training.teacher_targets import load_teacher_targets, mix_targets, save_teacher_targets

from .conftest import _cfg, write_class_folders


def test_mix_targets_weights_labels_and_softened_teacher(tiny_ferplus):
    data = load_dataset("ferplus", tiny_ferplus, "valid")
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(8), size=len(data)).astype(np.float32)
    onehot = torch.nn.functional.one_hot(data.labels, 8).float()
    assert torch.allclose(mix_targets(data, probs, 0.0, 2.0), onehot)
    assert torch.allclose(mix_targets(data, probs, 1.0, 1.0), torch.from_numpy(probs), atol=1e-6)
    half = mix_targets(data, probs, 0.5, 2.0)
    assert torch.allclose(half.sum(1), torch.ones(len(data)), atol=1e-5)
    soft_teacher = (half - 0.5 * onehot) / 0.5
    # T = 2 flattens the teacher: its top class keeps less mass than at T = 1
    assert (soft_teacher.max(1).values <= torch.from_numpy(probs).max(1).values + 1e-6).all()
    with pytest.raises(FervisionError, match="weight"):
        mix_targets(data, probs, 1.5, 1.0)


def test_targets_are_refused_for_other_faces(tiny_ferplus, tmp_path):
    valid = load_dataset("ferplus", tiny_ferplus, "valid")
    test = load_dataset("ferplus", tiny_ferplus, "test")  # same size, other faces
    probs = np.full((len(valid), 8), 1 / 8, np.float32)
    save_teacher_targets(tmp_path / "t.npz", probs, valid, ["x"])
    assert np.array_equal(load_teacher_targets(tmp_path / "t.npz", valid), probs)
    with pytest.raises(DataError, match="other faces"):
        load_teacher_targets(tmp_path / "t.npz", test)
    with pytest.raises(DataError, match="do not exist"):
        load_teacher_targets(tmp_path / "missing.npz", valid)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a teacher-targets file"):
        load_teacher_targets(tmp_path / "bad.npz", valid)


def test_cli_targets_then_offline_distillation(tiny_ferplus, tmp_path, capsys):
    teacher = train(_cfg(tiny_ferplus, tmp_path / "teacher", epochs=1, max_train_samples=64))
    targets = tmp_path / "targets.npz"
    assert main(["teacher-targets", str(teacher), str(teacher), "--data", str(tiny_ferplus), "--device", "cpu",
                 "--output", str(targets)]) == 0
    printed = float(capsys.readouterr().out.split("on ")[-1].split("%")[0])
    train_faces = load_dataset("ferplus", tiny_ferplus, "train")
    probs = load_teacher_targets(targets, train_faces)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    assert printed == pytest.approx(100 * (probs.argmax(1) == train_faces.labels.numpy()).mean(), abs=0.01)

    best = train(_cfg(tiny_ferplus, tmp_path / "student", epochs=1, max_train_samples=64,
                      teacher_targets=str(targets), kd_weight=0.7))
    meta = read_metadata(best)
    assert meta.dataset["teacher_targets"] == str(targets)
    with pytest.raises(FervisionError, match="not both"):
        train(_cfg(tiny_ferplus, tmp_path / "both", epochs=1, max_train_samples=64,
                   teacher_targets=str(targets), teacher=str(teacher)))
    assert main(["train", "--model", "nca_mobilenet", "--data", str(tiny_ferplus), "--teacher-targets",
                 str(tmp_path / "valid_only.npz"), "--output", str(tmp_path / "x")]) == 2
    assert "do not exist" in capsys.readouterr().err


def test_a_teacher_teaches_class_folders_by_label_name(trained, tmp_path, capsys):
    """Folders come sorted by name and may hold only some of the teacher's classes; with --init,
    the targets are made for the faces exactly as the fine-tuning run reads them."""
    faces = write_class_folders(tmp_path / "faces", {0: "surprise", 1: "happiness", 2: "neutral"})
    targets = tmp_path / "t.npz"
    assert main(["teacher-targets", str(trained), "--dataset", "folder", "--data", str(faces), "--init", str(trained),
                 "--device", "cpu", "--output", str(targets)]) == 0
    teacher, meta = load_checkpoint(trained)
    data = load_dataset("folder", faces, "train", **reading_form(meta))
    assert data.label_names == ("happiness", "neutral", "surprise")
    full = predict_tensor(teacher, data.images, meta.preprocessing, torch.device("cpu"), tta_flip=True)
    picked = full[:, [meta.labels.index(n) for n in data.label_names]]
    assert np.allclose(load_teacher_targets(targets, data), picked / picked.sum(1, keepdims=True), atol=1e-5)

    run = dict(dataset="folder", init=str(trained), epochs=1, batch_size=16, lr=1e-4)
    train(_cfg(faces, tmp_path / "offline", teacher_targets=str(targets), **run))
    train(_cfg(faces, tmp_path / "online", teacher=str(trained), **run))
    assert main(["teacher-targets", str(trained), "--dataset", "folder", "--data", str(faces), "--device", "cpu",
                 "--output", str(tmp_path / "colour.npz")]) == 0  # read as a run without --init reads them
    with pytest.raises(DataError, match="teacher-targets … --init"):
        train(_cfg(faces, tmp_path / "x", teacher_targets=str(tmp_path / "colour.npz"), **run))
    write_class_folders(tmp_path / "new", {0: "yawning", 1: "happiness"})
    assert main(["teacher-targets", str(trained), "--dataset", "folder", "--data", str(tmp_path / "new"),
                 "--device", "cpu", "--output", str(tmp_path / "y.npz")]) == 2
    assert "does not predict yawning" in capsys.readouterr().err
