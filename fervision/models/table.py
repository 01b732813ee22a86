"""The table printed by ``fervision models``: our parameter and MAC counts beside the papers'."""

from __future__ import annotations

from .complexity import count_macs, count_params
from .registry import create_model, get_model_config, list_models


def model_rows(num_classes: int = 8, input_size: int | None = None) -> list[dict[str, object]]:
    rows = []
    for name in list_models():
        cfg = get_model_config(name)
        size = input_size or cfg.input_size
        model = create_model(name, num_classes=num_classes, in_chans=3)
        rows.append({
            "name": name,
            "params_m": count_params(model) / 1e6,
            "input_size": size,
            "gmacs": count_macs(model, size) / 1e9,
            "paper_params_m": cfg.paper.get("params_m"),
            "paper_mflops": cfg.paper.get("mflops"),
            "paper_ferplus": cfg.paper.get("ferplus_acc"),
            "paper_rafdb": cfg.paper.get("rafdb_acc"),
            "description": cfg.description,
        })
    return rows


def model_table(num_classes: int = 8, input_size: int | None = None) -> str:
    def fmt(v: object, spec: str, unit: str = "") -> str:
        return "—" if v is None else format(v, spec) + unit

    head = (f"{'model':<24}{'params':>9}{'GMACs':>8}{'@':>5}  "
            f"{'paper params':>12}{'paper MFLOPs':>13}{'paper FERPlus':>14}{'paper RAF-DB':>13}")
    lines = [head, "-" * len(head)]
    for r in model_rows(num_classes, input_size):
        lines.append(
            f"{r['name']:<24}{r['params_m']:>8.2f}M{r['gmacs']:>8.3f}{r['input_size']:>5}  "
            f"{fmt(r['paper_params_m'], '.2f', 'M'):>12}{fmt(r['paper_mflops'], '.2f'):>13}"
            f"{fmt(r['paper_ferplus'], '.2f', '%'):>14}{fmt(r['paper_rafdb'], '.2f', '%'):>13}"
        )
    lines.append(f"(our counts: {num_classes}-class head, RGB input; MACs = multiply-accumulates of convs and matmuls)")
    return "\n".join(lines)
