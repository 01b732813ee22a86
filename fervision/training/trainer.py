"""The training loop behind ``fervision train``.

Data live on the training device as uint8 tensors and are augmented there in batches, so
the loop never waits for image decoding: on 2 CPU cores and on a GPU alike. Every epoch
writes a resumable state and, when validation improves, the best checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..checkpoint import (
    CheckpointMeta,
    Preprocessing,
    label_columns,
    label_problem,
    load_checkpoint,
    save_checkpoint,
)
from ..data import AugmentConfig, FaceTensors, augment, iterate_batches, load_dataset
from ..data.augmentation import match_channels, normalize
from ..errors import FervisionError
from ..inference import resolve_device
from ..losses import create_loss
from ..models import create_model, get_model_config, model_options
from .evaluate import evaluate_model
from .initial_weights import init_checkpoint_meta, load_init, reading_form
from .runs import (
    RunConfig,
    fit_batch_size,
    git_commit,
    hardware_description,
    param_groups,
    read_state,
    restore_generator,
    warmup_cosine,
    write_config,
    write_state,
)
from .teacher_targets import load_teacher_targets, mix_targets


@dataclass
class TrainConfig(RunConfig):
    """Everything that defines a training run: the settings of every run, and these."""

    loss: str = "ce"
    label_smoothing: float = 0.0
    focal_gamma: float = 0.1
    focal_alpha: float = 0.5
    soft_labels: bool = False
    ema_decay: float = 0.0
    teacher: str | None = None
    teacher_targets: str | None = None  # .npz from `fervision teacher-targets` (offline distillation)
    # a checkpoint; an encoder from `fervision pretrain`; "imagenet" or a .pth file (efficientnet_lite0)
    init: str | None = None
    kd_weight: float = 0.5
    kd_temperature: float = 2.0
    augment: dict[str, Any] = field(default_factory=dict)
    tta_flip: bool = False
    select_metric: str = "accuracy"
    val_fraction: float = 0.1
    time_budget_min: float | None = None
    amp: bool = True
    half_checkpoint: bool = True


@dataclass
class _Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device: torch.device) -> tuple[_Dist, torch.device]:
    """Join a ``torchrun`` process group when launched by one; otherwise single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist(), device
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return _Dist(dist.get_rank(), world, local), device


def _split_train_val(cfg: TrainConfig, start: CheckpointMeta | None = None) -> tuple[FaceTensors, FaceTensors]:
    """Train and validation sets; datasets without a validation split lose ``val_fraction`` of train, per class.

    A run started from a checkpoint (``start``) reads its faces as that checkpoint saw them (:func:`reading_form`)."""
    form = reading_form(start)
    train = load_dataset(cfg.dataset, cfg.data, "train", soft_labels=cfg.soft_labels, **form)
    if cfg.teacher_targets:  # before any split, so held-out and subset faces keep their own targets
        probs = load_teacher_targets(cfg.teacher_targets, train)
        train.soft = mix_targets(train, probs, cfg.kd_weight, cfg.kd_temperature)
    try:
        val = load_dataset(cfg.dataset, cfg.data, "valid", **form)
    except FervisionError:
        g = torch.Generator().manual_seed(cfg.seed)
        val_idx = []
        for c in range(train.num_classes):
            idx = torch.nonzero(train.labels == c).flatten()
            idx = idx[torch.randperm(len(idx), generator=g)]
            val_idx.append(idx[: max(1, round(len(idx) * cfg.val_fraction))] if len(idx) > 1 else idx[:0])
        held = torch.cat(val_idx)
        mask = torch.ones(len(train), dtype=torch.bool)
        mask[held] = False
        train, val = train.subset(torch.nonzero(mask).flatten()), train.subset(held)
    if cfg.max_train_samples:
        train = train.subset(slice(0, cfg.max_train_samples))
        val = val.subset(slice(0, cfg.max_train_samples))
    return train, val


class Trainer:
    """One training run. Construct, then :meth:`fit`.

    ``clock`` (seconds, monotonic) times the run: the wall time recorded in the log and the
    checkpoint, and the ``time_budget_min`` the run stops at. Tests pass a fake one so the
    budget is exact whatever the machine's load."""

    def __init__(self, cfg: TrainConfig, *, clock: Callable[[], float] = time.perf_counter) -> None:
        if cfg.teacher and cfg.teacher_targets:  # before any data is loaded
            raise FervisionError("give --teacher (online distillation) or --teacher-targets (offline), not both.")
        if cfg.label_smoothing and cfg.loss != "ce":
            raise FervisionError(f"--label-smoothing applies to --loss ce, not {cfg.loss}.")
        if cfg.epochs < 1 and not cfg.time_budget_min:
            raise FervisionError(f"--epochs must be at least 1, not {cfg.epochs}.")
        self.cfg = cfg
        self.clock = clock
        self.out = Path(cfg.output)
        self.device = resolve_device(cfg.device)
        self.dist, self.device = _init_distributed(self.device)
        torch.manual_seed(cfg.seed)
        start = init_checkpoint_meta(cfg.init)
        train, val = _split_train_val(cfg, start)
        if len(val) == 0:
            raise FervisionError(f"{cfg.data} leaves no faces to validate on: give each class at least 2 images "
                                 "(a tenth of them, at least one, is held out).")
        # full batches only, as large as the faces allow: a small folder still trains
        self.batch_size, note = fit_batch_size(len(train), cfg.batch_size, self.dist.world_size)
        if note and self.dist.main:
            print(note, flush=True)
        self.labels = train.label_names
        for name in self.labels:  # the checkpoint's labels: refused now, not when the first epoch is saved
            problem = label_problem(name)
            if problem:
                raise FervisionError(f"class {name!r} of {cfg.data} cannot be a checkpoint label: it {problem}.")
        mc = get_model_config(cfg.model)
        self.pre = Preprocessing(
            input_size=cfg.img_size,
            source_size=train.image_size,
            color="grey" if train.channels == 1 else "rgb",
            mean=mc.mean,
            std=mc.std,
            # fine-tuning keeps the detector-box margin the start was trained with (its crops frame faces that way)
            crop_margin=start.preprocessing.crop_margin if start else 0.0 if cfg.dataset == "ferplus" else 0.1,
        )
        self.train_data = train.to(self.device)
        self.val_data = val
        augment_options: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.augment.items()}
        self.aug = AugmentConfig(**augment_options)
        self.model = create_model(cfg.model, num_classes=train.num_classes, in_chans=self.pre.in_chans,
                                  **cfg.model_options)
        self.init_source = load_init(self.model, cfg.model, cfg.init, self.labels) if cfg.init else None
        self.model.to(self.device)
        if self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net: nn.Module = self.model
        if self.dist.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.ema = None
        if cfg.ema_decay > 0:
            from timm.utils import ModelEmaV3

            self.ema = ModelEmaV3(self.model, decay=cfg.ema_decay)
        # every loss takes label distributions too (--soft-labels, --teacher-targets)
        if cfg.loss in ("focal", "awfl"):
            self.loss = create_loss(cfg.loss, gamma=cfg.focal_gamma, alpha=cfg.focal_alpha)
        else:
            self.loss = create_loss(cfg.loss, label_smoothing=cfg.label_smoothing)
        self.teacher: nn.Module | None = None
        if cfg.teacher:
            self.teacher, teacher_meta = load_checkpoint(cfg.teacher, map_location=self.device)
            # the teacher's logits, in our class order
            self.teacher_columns = label_columns(teacher_meta, self.labels, cfg.teacher)
            self.teacher_pre = teacher_meta.preprocessing
        self.optimizer = torch.optim.AdamW(param_groups(self.model, cfg.weight_decay), lr=cfg.lr)
        self.generator = torch.Generator(device=self.device).manual_seed(cfg.seed + 1000 * self.dist.rank)
        self.order_generator = torch.Generator().manual_seed(cfg.seed)
        self.start_epoch = 0
        self.step = 0
        self.best = -1.0
        self.history: list[dict[str, Any]] = []
        self.elapsed = 0.0

    # -- steps ---------------------------------------------------------------------------
    def _autocast(self):
        if self.cfg.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _step(self, idx: torch.Tensor) -> torch.Tensor:
        idx = idx.to(self.device)
        x = augment(self.train_data.images[idx], self.cfg.img_size, self.pre.in_chans, self.pre.mean, self.pre.std,
                    self.aug, self.generator)
        if self.device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        target = self.train_data.soft[idx] if self.train_data.soft is not None else self.train_data.labels[idx]
        with self._autocast():
            logits = self.net(x)
        loss = self.loss(logits, target)
        if self.teacher is not None:
            loss = (1 - self.cfg.kd_weight) * loss + self.cfg.kd_weight * self._distillation(self.teacher, x, logits)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def _teacher_input(self, x: torch.Tensor) -> torch.Tensor:
        """The student's augmented batch, resized and re-normalised for the teacher
        (the same view, in its own preprocessing)."""
        tp = self.teacher_pre
        pixels = x.float() * torch.tensor(self.pre.std, device=x.device).view(1, -1, 1, 1) \
            + torch.tensor(self.pre.mean, device=x.device).view(1, -1, 1, 1)
        pixels = match_channels(pixels, tp.in_chans)
        if pixels.shape[-1] != tp.input_size:
            pixels = F.interpolate(pixels, size=(tp.input_size, tp.input_size), mode="bilinear", align_corners=False)
        return normalize(pixels * 255.0, tp.mean, tp.std)

    def _distillation(self, teacher: nn.Module, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Hinton et al.'s soft-target loss: T² · KL(teacher_T ‖ student_T)."""
        t = self.cfg.kd_temperature
        with torch.no_grad(), self._autocast():
            teacher_logits = teacher(self._teacher_input(x))[:, self.teacher_columns]
        p_teacher = F.softmax(teacher_logits.float() / t, dim=1)
        log_p_student = F.log_softmax(logits.float() / t, dim=1)
        return F.kl_div(log_p_student, p_teacher, reduction="batchmean") * t * t

    def _steps_per_epoch(self) -> int:
        """Full batches per epoch, the same on every rank (at least one: see :func:`fit_batch_size`)."""
        return (len(self.train_data) // self.dist.world_size) // self.batch_size

    def _lr_factor(self, progress: float) -> float:
        return warmup_cosine(self.step, max(1, int(self.cfg.warmup_epochs * self._steps_per_epoch())), progress)

    def _progress(self, train_time: float) -> float:
        """Fraction of the run done: by steps, or with a time budget by wall-clock time (same on every rank)."""
        budget_min = self.cfg.time_budget_min
        if not budget_min:
            return self.step / (self.cfg.epochs * self._steps_per_epoch())
        progress = train_time / (budget_min * 60)
        if self.dist.world_size == 1:
            return progress
        p = torch.tensor([progress], device=self.device)
        dist.broadcast(p, 0)  # rank 0's clock decides, so every rank uses the same learning rate
        return float(p)

    # -- state -----------------------------------------------------------------------------
    def _save_state(self, epoch: int) -> None:
        state = {
            "epoch": epoch,
            "step": self.step,
            "best": self.best,
            "elapsed": self.elapsed,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema else None,
            "history": json.dumps(self.history),
            "order_rng": self.order_generator.get_state(),
            "aug_rng": self.generator.get_state().cpu(),
        }
        write_state(self.out, state)

    def _resume(self) -> None:
        """Continue from ``last_state.pt`` when the output folder has one."""
        state = read_state(self.cfg, ("model", "model_options", "img_size", "dataset", "soft_labels", "teacher_targets",
                                      "kd_weight", "kd_temperature"), self.device)
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.ema and state["ema"] is not None:
            self.ema.module.load_state_dict(state["ema"])
        self.start_epoch = int(state["epoch"]) + 1
        self.step = int(state["step"])
        self.best = float(state["best"])
        self.elapsed = float(state["elapsed"])
        self.history = json.loads(state["history"])
        self.order_generator.set_state(state["order_rng"])
        restore_generator(self.generator, state["aug_rng"])

    def _meta(self, metrics: dict[str, Any]) -> CheckpointMeta:
        cfg = dataclasses.asdict(self.cfg)
        return CheckpointMeta(
            model=self.cfg.model,
            model_options=model_options(self.model),
            labels=list(self.labels),
            preprocessing=self.pre,
            dataset={"name": self.cfg.dataset, "train": len(self.train_data),
                     "valid": len(self.val_data), "soft_labels": self.cfg.soft_labels,
                     "teacher_targets": self.cfg.teacher_targets},
            metrics=metrics,
            training={
                "command": self.cfg.command,
                "config": cfg,
                "git_commit": git_commit(),
                "hardware": hardware_description(self.device),
                "world_size": self.dist.world_size,
                "batch_size": self.batch_size,
                "seed": self.cfg.seed,
                "wall_time_s": round(self.elapsed, 1),
                "init": self.init_source,
            },
        )

    # -- loop ------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> Path:
        """Train; returns the path of the best checkpoint (``best.safetensors`` in the output folder)."""
        self.out.mkdir(parents=True, exist_ok=True)
        if resume:
            self._resume()
        epochs = None if self.cfg.time_budget_min else self.cfg.epochs
        if self.dist.main:
            write_config(self.cfg)
        steps = self._steps_per_epoch()
        best_path = self.out / "best.safetensors"
        # not the groups' lr, which a resume sets to the last step's
        base_lr = [self.cfg.lr] * len(self.optimizer.param_groups)
        epoch = self.start_epoch
        progress = self._progress(self.elapsed)
        while progress < 1.0 and (epochs is None or epoch < epochs):
            t0 = self.clock()
            self.model.train()
            total, count = torch.zeros((), device=self.device), 0
            # every rank takes the same number of steps (a rank with one face more must not take one more)
            batches = itertools.islice(
                iterate_batches(len(self.train_data), self.batch_size, shuffle=True, generator=self.order_generator,
                                rank=self.dist.rank, world_size=self.dist.world_size, drop_last=True),
                steps)
            of = f"/{epochs}" if epochs else f" ({self.cfg.time_budget_min:g} min budget)"
            bar = tqdm(batches, total=steps, desc=f"epoch {epoch + 1}{of}", disable=not self.dist.main,
                       mininterval=1.0 if sys.stderr.isatty() else 30.0, leave=False)
            for idx in bar:
                progress = self._progress(self.elapsed + self.clock() - t0)
                if progress >= 1.0:
                    break
                factor = self._lr_factor(progress)
                for g, lr in zip(self.optimizer.param_groups, base_lr, strict=True):
                    g["lr"] = lr * factor
                loss = self._step(idx)
                self.step += 1
                if self.ema is not None:
                    self.ema.update(self.model)
                total += loss
                count += 1
                if count % 50 == 1:
                    bar.set_postfix(loss=f"{float(loss):.3f}", lr=f"{lr * factor:.2e}")
            eval_model = self.ema.module if self.ema is not None else self.model
            report = evaluate_model(eval_model, self.val_data, self.pre, self.device, tta_flip=self.cfg.tta_flip)
            self.elapsed += self.clock() - t0
            score = report[self.cfg.select_metric]
            record = {"epoch": epoch + 1, "train_loss": float(total) / max(count, 1),
                      "val_accuracy": report["accuracy"], "val_macro_f1": report["macro_f1"],
                      "lr": self.optimizer.param_groups[0]["lr"], "elapsed_s": round(self.elapsed, 1)}
            self.history.append(record)
            improved = score > self.best
            if improved:
                self.best = score
            if self.dist.main:
                if improved:
                    metrics = {"valid": {k: report[k] for k in ("accuracy", "macro_f1", "mean_recall", "n")}
                               | {"per_class_recall": {c: v["recall"] for c, v in report["per_class"].items()}},
                               "epoch": epoch + 1, "tta_flip": self.cfg.tta_flip}
                    save_checkpoint(eval_model, self._meta(metrics), best_path, half=self.cfg.half_checkpoint)
                with open(self.out / "log.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
                self._save_state(epoch)
                print(f"epoch {epoch + 1}{of} loss {record['train_loss']:.4f} "
                      f"val acc {report['accuracy']:.4f} macro-F1 {report['macro_f1']:.4f}"
                      f"{' *' if improved else ''} ({self.elapsed:.0f} s)", flush=True)
            epoch += 1
            progress = self._progress(self.elapsed)
        if self.dist.world_size > 1:
            dist.barrier()
        return best_path


def train(cfg: TrainConfig, resume: bool = False, *, clock: Callable[[], float] = time.perf_counter) -> Path:
    """Run a training job described by ``cfg``; returns the best checkpoint's path (``clock``: see :class:`Trainer`)."""
    return Trainer(cfg, clock=clock).fit(resume=resume)
