#!/usr/bin/env bash
# The shipped FERPlus checkpoints: each trained in parallel on one GPU with a wall-clock
# budget, then its best-by-validation checkpoint evaluated once on test.
#
# usage: scripts/ferplus_main.sh DATA OUT [BUDGET_MIN] [extra train args...]
set -uo pipefail
DATA=$1; OUT=$2; BUDGET=${3:-8}; shift $(( $# < 3 ? $# : 3 ))
COMMON=(--dataset ferplus --data "$DATA" --batch-size 128 --lr 1e-3 --weight-decay 0.05 --seed 0
        --ema 0.999 --tta-flip --time-budget-min "$BUDGET" "$@")
export OMP_NUM_THREADS=1
mkdir -p "$OUT"

# shellcheck source=scripts/_run_lib.sh
source "$(dirname "$0")/_run_lib.sh"

run convnextv2_pico_csa_awfl_112 --model convnextv2_pico_csa --loss awfl --img-size 112
run nca_mobilenet_112           --model nca_mobilenet --soft-labels --img-size 112
run nca_mobilenet_48            --model nca_mobilenet --soft-labels --img-size 48
run mobilenetv3_large_64        --model mobilenetv3_large_100 --soft-labels --img-size 64
wait
