"""``fervision pretrain``: FCMAE self-supervised pre-training of a ConvNeXt on the training faces.

The labels are never read. The run writes ``encoder.safetensors`` (the classification
model's weights without its head, with the pre-training recipe in the header) and
``reconstruction.png`` (eight faces, a fixed set of patches hidden, and what the decoder
redraws: the quickest check that pre-training learns) after every epoch, and
``fervision train --init encoder.safetensors`` fine-tunes from it. Like training, every
epoch leaves a resumable state.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn
from tqdm import tqdm

from ..core.io import atomic_write_bytes
from ..data import AugmentConfig, augment, iterate_batches, load_dataset
from ..data.augmentation import preprocess
from ..errors import CheckpointError, FervisionError
from ..inference import resolve_device
from ..models import create_model, get_model_config, model_options
from .fcmae import FCMAE, random_patch_mask
from .plots import image_grid_png
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

PRETRAIN_KEY = "fervision_pretrain"
_HEAD = "head."  # the classifier: not pre-trained, so neither saved nor loaded


@dataclass
class PretrainConfig(RunConfig):
    """Everything that defines a pre-training run: the settings of every run, and these."""

    output: str = "runs/pretrain"
    epochs: int = 50
    patch_size: int | None = None  # default: fcmae.default_patch_size(img_size)
    mask_ratio: float = 0.6
    decoder_dim: int = 256


# Crops, flips, small rotations and lighting; no random erasing, which would fight the mask.
_AUGMENT = AugmentConfig(erase_prob=0.0)
_MUST_MATCH_ON_RESUME = ("model", "model_options", "dataset", "img_size", "patch_size", "mask_ratio", "decoder_dim")


class Pretrainer:
    """One FCMAE pre-training run. Construct, then :meth:`fit`."""

    def __init__(self, cfg: PretrainConfig) -> None:
        if cfg.epochs < 1:
            raise FervisionError(f"--epochs must be at least 1, not {cfg.epochs}.")
        self.cfg = cfg
        self.out = Path(cfg.output)
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        data = load_dataset(cfg.dataset, cfg.data, "train")
        if cfg.max_train_samples:
            data = data.subset(slice(0, cfg.max_train_samples))
        self.batch_size, note = fit_batch_size(len(data), cfg.batch_size)  # a small folder still pre-trains
        if note:
            print(note, flush=True)
        self.images = data.images.to(self.device)
        self.in_chans = data.channels
        mc = get_model_config(cfg.model)
        self.mean, self.std = mc.mean, mc.std
        self.model = create_model(cfg.model, num_classes=data.num_classes, in_chans=self.in_chans, **cfg.model_options)
        self.fcmae = FCMAE(self.model, cfg.img_size, self.in_chans, cfg.patch_size, cfg.mask_ratio,
                           cfg.decoder_dim).to(self.device)
        trainable = nn.ModuleDict({"encoder": self.fcmae.encoder, "proj": self.fcmae.proj,
                                   "decoder": self.fcmae.decoder, "pred": self.fcmae.pred})
        groups = param_groups(trainable, cfg.weight_decay)
        groups[1]["params"] += [self.fcmae.mask_token, self.fcmae.pos_embed]  # no weight decay, as in MAE
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))  # FCMAE's betas
        self.generator = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.order_generator = torch.Generator().manual_seed(cfg.seed)
        self.start_epoch, self.step, self.elapsed = 0, 0, 0.0
        self.history: list[dict[str, Any]] = []

    @property
    def steps_per_epoch(self) -> int:
        return len(self.images) // self.batch_size

    def _resume(self) -> None:
        state = read_state(self.cfg, _MUST_MATCH_ON_RESUME, self.device)
        if state is None:
            return
        self.fcmae.load_state_dict(state["fcmae"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.start_epoch, self.step, self.elapsed = int(state["epoch"]) + 1, int(state["step"]), float(state["elapsed"])
        self.history = json.loads(state["history"])
        self.order_generator.set_state(state["order_rng"])
        restore_generator(self.generator, state["aug_rng"])

    def _save(self, epoch: int) -> None:
        state = {"epoch": epoch, "step": self.step, "elapsed": self.elapsed, "fcmae": self.fcmae.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "history": json.dumps(self.history),
                 "order_rng": self.order_generator.get_state(), "aug_rng": self.generator.get_state().cpu()}
        save_encoder(self.model, self._meta(), self.out / "encoder.safetensors")
        write_state(self.out, state)
        atomic_write_bytes(self.out / "reconstruction.png", self._preview())

    def _preview(self, n: int = 8) -> bytes:
        """The first ``n`` faces, the same patches hidden every epoch: original, masked input, reconstruction."""
        x = preprocess(self.images[:n], self.cfg.img_size, self.in_chans, self.mean, self.std)
        masked = random_patch_mask(len(x), self.fcmae.grid, self.cfg.mask_ratio, torch.Generator().manual_seed(0))
        self.fcmae.eval()
        shown, redrawn = self.fcmae.preview(x, masked.to(self.device))
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        rows = [((t * std + mean) * 255).clamp(0, 255).byte().cpu().numpy() for t in (x, shown, redrawn)]
        return image_grid_png(rows)

    def _meta(self) -> dict[str, Any]:
        return {"model": self.cfg.model, "model_options": model_options(self.model),
                "in_chans": self.in_chans, "img_size": self.cfg.img_size, "patch_size": self.fcmae.patch_size,
                "mask_ratio": self.cfg.mask_ratio, "epochs_done": len(self.history),
                "dataset": {"name": self.cfg.dataset, "split": "train", "images": len(self.images)},
                "final_loss": self.history[-1]["loss"] if self.history else None,
                "command": self.cfg.command, "config": dataclasses.asdict(self.cfg), "git_commit": git_commit(),
                "hardware": hardware_description(self.device), "wall_time_s": round(self.elapsed, 1)}

    def fit(self, resume: bool = False) -> Path:
        """Pre-train; returns the path of ``encoder.safetensors``."""
        self.out.mkdir(parents=True, exist_ok=True)
        if resume:
            self._resume()
        write_config(self.cfg)
        total_steps = self.cfg.epochs * self.steps_per_epoch
        warmup = max(1, int(self.cfg.warmup_epochs * self.steps_per_epoch))
        # not the groups' lr, which a resume sets to the last step's
        base_lr = [self.cfg.lr] * len(self.optimizer.param_groups)
        for epoch in range(self.start_epoch, self.cfg.epochs):
            t0 = time.perf_counter()
            self.fcmae.train()
            total = torch.zeros((), device=self.device)
            batches = iterate_batches(len(self.images), self.batch_size, shuffle=True,
                                      generator=self.order_generator, drop_last=True)
            bar = tqdm(batches, total=self.steps_per_epoch, desc=f"pretrain epoch {epoch + 1}/{self.cfg.epochs}",
                       mininterval=1.0 if sys.stderr.isatty() else 30.0, leave=False)
            for idx in bar:
                factor = warmup_cosine(self.step, warmup, self.step / total_steps)
                for g, lr in zip(self.optimizer.param_groups, base_lr, strict=True):
                    g["lr"] = lr * factor
                x = augment(self.images[idx.to(self.device)], self.cfg.img_size, self.in_chans, self.mean, self.std,
                            _AUGMENT, self.generator)
                loss = self.fcmae(x, self.generator)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.step += 1
                loss = loss.detach()
                total += loss
                if self.step % 50 == 1:
                    bar.set_postfix(loss=f"{float(loss):.3f}")
            self.elapsed += time.perf_counter() - t0
            record = {"epoch": epoch + 1, "loss": float(total) / self.steps_per_epoch,
                      "elapsed_s": round(self.elapsed, 1)}
            self.history.append(record)
            with open(self.out / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            self._save(epoch)
            print(f"pretrain epoch {epoch + 1}/{self.cfg.epochs} loss {record['loss']:.4f} ({self.elapsed:.0f} s)",
                  flush=True)
        return self.out / "encoder.safetensors"


def save_encoder(model: nn.Module, meta: dict[str, Any], path: Path) -> None:
    """The model's weights without its head, with ``meta`` (the pre-training recipe) in the header."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if not k.startswith(_HEAD)}
    atomic_write_bytes(path, save(state, metadata={PRETRAIN_KEY: json.dumps(meta)}))


def read_encoder_metadata(path: str | Path) -> dict[str, Any] | None:
    """The pre-training recipe of an encoder file; ``None`` for any other safetensors file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(PRETRAIN_KEY)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}).") from None
    return json.loads(raw) if raw else None


def load_encoder(model: nn.Module, path: str | Path) -> dict[str, Any]:
    """Copy a ``fervision pretrain`` encoder into ``model`` (all but the head); returns its recipe.

    Every weight outside the head must be in the file with the same shape, so an encoder
    pre-trained as another model (or with another number of input channels) is refused
    with a sentence instead of being half-loaded."""
    meta = read_encoder_metadata(path)
    if meta is None:
        raise CheckpointError(f"{path} is not an encoder written by `fervision pretrain`.")
    with safe_open(str(path), framework="pt") as f:
        weights = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118  (safe_open has keys() but no __iter__)
    wanted = {k: v for k, v in model.state_dict().items() if not k.startswith(_HEAD)}
    wrong = [k for k, v in wanted.items() if k not in weights or weights[k].shape != v.shape]
    if wrong:
        raise CheckpointError(f"{path} was pre-trained as {meta.get('model')} {meta.get('model_options')} with "
                              f"{meta.get('in_chans')} input channel(s) and does not fit this model "
                              f"({len(wrong)} weights differ, first: {wrong[0]}).")
    model.load_state_dict({k: weights[k] for k in wanted}, strict=False)
    return meta


def pretrain(cfg: PretrainConfig, resume: bool = False) -> Path:
    """Run an FCMAE pre-training job; returns the encoder file's path."""
    return Pretrainer(cfg).fit(resume=resume)
