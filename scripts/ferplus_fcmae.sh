#!/usr/bin/env bash
# FCMAE self-supervised pre-training of paper A's model on the FERPlus train faces (labels
# unused), then ablation row A4 (CSA + AWFL) fine-tuned from it with the ablation recipe and
# budget, so the result sits beside the from-scratch A4 of docs/ablations.md.
#
# usage: [PRE_EPOCHS=N] [EPOCHS=N] [SEEDS="0 1"] scripts/ferplus_fcmae.sh DATA OUT [args for both steps...]
# e.g. on 2 CPU cores (docs/ablations.md): PRE_EPOCHS=12 EPOCHS=5 scripts/ferplus_fcmae.sh ../shared/data/ferplus runs/fcmae48 \
#        --img-size 48 --batch-size 64
# The fine-tuning seeds run side by side, one CPU thread each, as the ablation rows do.
set -uo pipefail
DATA=$1; OUT=$2; shift 2
HERE=$(dirname "$0")
# shellcheck source=scripts/_run_lib.sh
source "$HERE/_run_lib.sh"  # sets PY
mkdir -p "$OUT"

# --resume: a finished pre-training is not repeated, an interrupted one continues
"$PY" -m fervision pretrain --model convnextv2_pico_csa --data "$DATA" --epochs "${PRE_EPOCHS:-50}" \
  --output "$OUT/pretrain" --resume "$@" >>"$OUT/pretrain.log" 2>&1 \
  || { echo "pre-training failed, see $OUT/pretrain.log" >&2; exit 1; }
for seed in ${SEEDS:-0 1}; do
  EPOCHS=${EPOCHS:-5} ROWS=A4_csa_awfl "$HERE/ferplus_ablations.sh" "$DATA" "$OUT/seed$seed" 0 "$@" --seed "$seed" \
    --init "$OUT/pretrain/encoder.safetensors" &
done
wait
