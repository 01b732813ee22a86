#!/usr/bin/env bash
# Candidates for the CPU default (>= 500 faces/s at batch 32 on 2 cores): NCA-MobileNet with
# Hardswish at 48 px, with and without distillation from a 112 px NCA-MobileNet teacher,
# plus a second seed of the 112 px model. Runs in parallel on one GPU with one time budget.
# Test evaluation is left to `fervision eval` on the CPU machine that reports it.
#
# usage: scripts/ferplus_fast.sh DATA OUT TEACHER [BUDGET_MIN]
set -uo pipefail
DATA=$1; OUT=$2; TEACHER=$3; BUDGET=${4:-7}
COMMON=(--dataset ferplus --data "$DATA" --batch-size 128 --lr 1e-3 --weight-decay 0.05
        --ema 0.999 --tta-flip --soft-labels --time-budget-min "$BUDGET")
export OMP_NUM_THREADS=1
mkdir -p "$OUT"

# shellcheck source=scripts/_run_lib.sh
source "$(dirname "$0")/_run_lib.sh"  # sets PY
train() { local name=$1; shift; "$PY" -m fervision train "${COMMON[@]}" --output "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 || echo "$name failed" >&2; }

train nca_mobilenet_hs_48_kd --model nca_mobilenet --model-option act=hardswish --img-size 48 --seed 0 --teacher "$TEACHER" &
train nca_mobilenet_hs_48    --model nca_mobilenet --model-option act=hardswish --img-size 48 --seed 0 &
train nca_mobilenet_112_s1   --model nca_mobilenet --img-size 112 --seed 1 &
wait
