"""Parameter and FLOP counts, as printed by ``fervision models`` and the model cards."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    """Number of trainable and frozen parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model: nn.Module, input_size: int, in_chans: int = 3) -> int:
    """Multiply-accumulates of one forward pass at ``input_size``² (convs and matmuls).

    ``torch.utils.flop_counter`` counts 2 FLOPs per multiply-accumulate; papers in this
    field (paper B's "825.93 MFLOPs" included) usually print MACs, so we report MACs.
    """
    was_training = model.training
    model.eval()
    x = torch.zeros(1, in_chans, input_size, input_size, device=next(model.parameters()).device)
    counter = FlopCounterMode(display=False)
    with counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops() // 2
