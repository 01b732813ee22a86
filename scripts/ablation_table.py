"""Print the measured columns of an ablation round as a Markdown table, one line per row.

Reads what `scripts/ferplus_ablations.sh` leaves in OUT: each row's best checkpoint
(selected epoch, validation accuracy), its `log.jsonl` (epochs trained) and its test
report `test.json` (accuracy, macro-F1, mean recall, params, MACs). docs/ablations.md
is built from this output, so its numbers trace back to files, not to hand copying.

    python scripts/ablation_table.py OUT [ROW_REGEX]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from fervision.checkpoint import read_metadata

RARE = ("disgust", "fear", "contempt")


def row_line(run: Path) -> str:
    """One Markdown row for a finished run folder; a note instead when the row has not finished."""
    report_path, best = run / "test.json", run / "best.safetensors"
    if not report_path.is_file() or not best.is_file():
        return f"| {run.name} | not finished |"
    report = json.loads(report_path.read_text())
    metrics = read_metadata(best).metrics
    epochs = sum(1 for line in (run / "log.jsonl").read_text().splitlines() if line.strip())
    recall = {name: v["recall"] for name, v in report["per_class"].items()}
    cells = [
        run.name,
        f"{report['params'] / 1e6:.2f}",
        f"{report['macs'] / 1e6:.1f}",
        f"{metrics['epoch']}/{epochs}",
        f"{100 * metrics['valid']['accuracy']:.2f}",
        f"{100 * report['accuracy']:.2f}",
        f"{100 * report['macro_f1']:.2f}",
        f"{100 * report['mean_recall']:.2f}",
        " / ".join(f"{100 * recall[c]:.1f}" for c in RARE),
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the OUT folder of scripts/ferplus_ablations.sh")
    parser.add_argument("rows", nargs="?", default=".*", help="regex of row names to print (default: all)")
    args = parser.parse_args()
    runs = sorted(p for p in args.out.iterdir() if p.is_dir() and re.fullmatch(args.rows, p.name))
    if not runs:
        raise SystemExit(f"no row folders matching {args.rows!r} in {args.out}")
    print("| row | params (M) | MACs (M) | best/epochs | valid acc | test acc | test macro-F1 | test mean recall "
          f"| test recall {' / '.join(RARE)} |")
    print("|---" * 9 + "|")
    for run in runs:
        print(row_line(run))


if __name__ == "__main__":
    main()
