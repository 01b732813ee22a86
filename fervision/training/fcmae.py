"""FCMAE: ConvNeXt V2's self-supervised pre-training (Woo et al., CVPR 2023), on dense tensors.

The encoder sees an image with a random 60 % of its patches removed and a light decoder
redraws the missing patches. ConvNeXt V2 keeps the encoder from seeing the holes with
sparse convolutions; the paper notes that a dense convolution with the mask applied
before and after it computes the same thing, which is what :class:`MaskedEncoder` does
(forward hooks zero the masked positions after the stem, every downsampling layer and
every block), so no sparse-convolution library is needed.

One adaptation for face crops: FCMAE masks 32-px patches, one per cell of the encoder's
last feature map (7×7 at 224 px). A 48-px face has a 1×1 last map, so the patch size is a
parameter (:func:`default_patch_size` picks 8 px there, 16 at 112 and 32 at 224) and the
decoder resamples the last map to the patch grid, where masked patches get the mask token
and every patch a learned position embedding (without it, a 1×1 map resampled to 6×6
would give every patch the same prediction), before predicting each patch's pixels.
Where a feature map is coarser than the patch grid, a cell counts as visible when any
patch under it is, so visible content is never dropped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.models.convnext import ConvNeXt, ConvNeXtBlock
from torch import nn

from ..errors import FervisionError
from ..models.attention import CSA


def default_patch_size(img_size: int) -> int:
    """The largest of 32/16/8 px that divides ``img_size`` into at least 6 patches a side."""
    for p in (32, 16, 8):
        if img_size % p == 0 and img_size // p >= 6:
            return p
    raise FervisionError(f"--img-size {img_size} cannot be cut into at least 6×6 patches of 8, 16 or 32 px; "
                         "use a multiple of 8 from 48 up.")


def random_patch_mask(batch: int, grid: int, ratio: float, generator: torch.Generator | None = None,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """``[B, 1, grid, grid]`` with exactly ``round(ratio · grid²)`` ones (masked) per image."""
    n = grid * grid
    masked = round(ratio * n)
    if not 0 < masked < n:
        raise FervisionError(f"mask ratio {ratio} masks {masked} of {n} patches; "
                             "it must leave some masked and some visible.")
    noise = torch.rand(batch, n, generator=generator, device=device)
    rank = noise.argsort(dim=1).argsort(dim=1)
    return (rank < masked).float().view(batch, 1, grid, grid)


def _resize_visible(visible: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """The visibility map at another resolution: exact upsampling, "any visible" when coarser."""
    if visible.shape[-2:] == size:
        return visible
    if size[0] >= visible.shape[-2]:
        return F.interpolate(visible, size=size, mode="nearest")
    return F.adaptive_max_pool2d(visible, size)


class MaskedEncoder(nn.Module):
    """A timm ConvNeXt (``stem``, ``stages``, ``forward_features``) that keeps masked positions at zero."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not isinstance(model, ConvNeXt):
            raise FervisionError("FCMAE pre-training needs a ConvNeXt model (convnextv2_pico or convnextv2_pico_csa).")
        self.model = model
        self._visible: torch.Tensor | None = None
        masked = [model.stem]
        for stage in model.stages:
            masked += [m for name, m in stage.named_modules()
                       if name.endswith("downsample") or isinstance(m, (ConvNeXtBlock, CSA))]
        for module in masked:
            module.register_forward_hook(self._apply_mask)

    def _apply_mask(self, module: nn.Module, inputs: object, output: torch.Tensor) -> torch.Tensor | None:
        if self._visible is None or output.ndim != 4:
            return None
        return output * _resize_visible(self._visible, output.shape[-2:]).to(output.dtype)

    def forward(self, x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """Features of ``x`` with only the ``visible`` (``[B, 1, h, w]``, 1 = seen) positions kept."""
        self._visible = visible
        try:
            return self.model.forward_features(x * _resize_visible(visible, x.shape[-2:]))
        finally:
            self._visible = None


class FCMAE(nn.Module):
    """Masked encoder + one ConvNeXt V2 block decoder at the patch grid.

    :meth:`forward` returns the reconstruction loss."""

    def __init__(self, model: nn.Module, img_size: int, in_chans: int, patch_size: int | None = None,
                 mask_ratio: float = 0.6, decoder_dim: int = 256) -> None:
        super().__init__()
        self.patch_size = patch_size or default_patch_size(img_size)
        if img_size % self.patch_size:
            raise FervisionError(f"--img-size {img_size} is not a multiple of the patch size {self.patch_size}.")
        self.grid = img_size // self.patch_size
        self.mask_ratio = mask_ratio
        self.in_chans = in_chans
        self.encoder = MaskedEncoder(model)
        self.proj = nn.Conv2d(self.encoder.model.num_features, decoder_dim, 1)
        self.mask_token = nn.Parameter(torch.zeros(1, decoder_dim, 1, 1))
        self.pos_embed = nn.Parameter(torch.zeros(1, decoder_dim, self.grid, self.grid))
        self.decoder = ConvNeXtBlock(decoder_dim, use_grn=True, ls_init_value=None)
        self.pred = nn.Conv2d(decoder_dim, self.patch_size**2 * in_chans, 1)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def reconstruct(self, x: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """Predicted pixels ``[B, C, H, W]`` (each patch in its own normalised units) for mask ``masked``."""
        visible = 1.0 - masked
        z = self.proj(self.encoder(x, visible))
        if z.shape[-1] != self.grid:
            z = F.interpolate(z, size=(self.grid, self.grid), mode="bilinear", align_corners=False)
        seen = visible.to(z.dtype)
        z = z * seen + self.mask_token.to(z.dtype) * (1 - seen) + self.pos_embed.to(z.dtype)
        return F.pixel_shuffle(self.pred(self.decoder(z)), self.patch_size)

    def loss(self, x: torch.Tensor, prediction: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """Mean squared error on the masked patches against per-patch normalised pixels (FCMAE's norm_pix_loss)."""
        p = self.patch_size
        target = F.pixel_unshuffle(x, p).view(x.shape[0], self.in_chans, p * p, self.grid, self.grid)
        mean, var = target.mean(dim=2, keepdim=True), target.var(dim=2, keepdim=True)
        target = (target - mean) / (var + 1e-6).sqrt()
        pred = F.pixel_unshuffle(prediction.float(), p).view_as(target)
        per_patch = ((pred - target) ** 2).mean(dim=(1, 2))  # [B, grid, grid]
        m = masked[:, 0]
        return (per_patch * m).sum() / m.sum()

    @torch.no_grad()
    def preview(self, x: torch.Tensor, masked: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The masked input and the reconstruction in ``x``'s units, visible patches pasted back.

        The decoder predicts each patch in its own normalised units, so, as in MAE's
        figures, every predicted patch is shown with the true patch's mean and spread."""
        p, b = self.patch_size, x.shape[0]
        patches = F.pixel_unshuffle(x, p).view(b, self.in_chans, p * p, self.grid, self.grid)
        mean, std = patches.mean(dim=2, keepdim=True), (patches.var(dim=2, keepdim=True) + 1e-6).sqrt()
        pred = F.pixel_unshuffle(self.reconstruct(x, masked).float(), p).view_as(patches) * std + mean
        pred = F.pixel_shuffle(pred.view(b, -1, self.grid, self.grid), p)
        hidden = F.interpolate(masked, size=x.shape[-2:], mode="nearest")
        return x * (1 - hidden), x * (1 - hidden) + pred * hidden

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        masked = random_patch_mask(x.shape[0], self.grid, self.mask_ratio, generator, x.device)
        return self.loss(x, self.reconstruct(x, masked), masked)
