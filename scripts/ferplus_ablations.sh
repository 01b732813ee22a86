#!/usr/bin/env bash
# Paper A's Table 2 and paper B's Table 6 ablations on FERPlus: every row trained with the
# same recipe, seed and budget, then its best-by-validation checkpoint evaluated once on test.
#
# usage: [ROWS=REGEX] [EPOCHS=N] [JOBS=N] scripts/ferplus_ablations.sh DATA OUT [BUDGET_MIN] [extra train args...]
# e.g. ROWS='A.*' for paper A's rows only, ROWS='M.*' for the batch-size sweep.
# The budget is BUDGET_MIN minutes of wall-clock per row (all rows in parallel on one GPU), or,
# with EPOCHS set, that many epochs per row: the fair budget when rows share a CPU and run
# at different speeds. JOBS caps how many rows run at once (default: all); each row uses one
# CPU thread, so on a CPU JOBS should be the number of cores.
set -uo pipefail
DATA=$1; OUT=$2; BUDGET=${3:-7}; shift $(( $# < 3 ? $# : 3 ))
if [[ -n "${EPOCHS:-}" ]]; then BUDGET_ARGS=(--epochs "$EPOCHS"); else BUDGET_ARGS=(--time-budget-min "$BUDGET"); fi
COMMON=(--dataset ferplus --data "$DATA" --img-size 112 --batch-size 128 --lr 1e-3
        --weight-decay 0.05 --seed 0 "${BUDGET_ARGS[@]}" "$@")
export OMP_NUM_THREADS=1
mkdir -p "$OUT"

# shellcheck source=scripts/_run_lib.sh
source "$(dirname "$0")/_run_lib.sh"

# Paper A, Table 2 (+ the other CSA placement)
run A1_base            --model convnextv2_pico
run A2_awfl            --model convnextv2_pico --loss awfl
run A3_csa             --model convnextv2_pico_csa
run A4_csa_awfl        --model convnextv2_pico_csa --loss awfl
run A5_csa_stages_awfl --model convnextv2_pico_csa --loss awfl --model-option csa_placement=stages
# Paper A, Fig. 3: the mini-batch size M, which also sets the AWFL class weights (M 6..60, best 36)
run M6_csa_awfl        --model convnextv2_pico_csa --loss awfl --batch-size 6
run M12_csa_awfl       --model convnextv2_pico_csa --loss awfl --batch-size 12
run M36_csa_awfl       --model convnextv2_pico_csa --loss awfl --batch-size 36
run M60_csa_awfl       --model convnextv2_pico_csa --loss awfl --batch-size 60
# Paper B, Table 6 (schemes 1-4, 6, then 5 as B9; + the other NCA pooling reading) and the MobileNetV3 baselines
run B1_base_hswish     --model nca_mobilenet --model-option act=hardswish --model-option attention=none
run B2_mish            --model nca_mobilenet --model-option attention=none
run B3_ca              --model nca_mobilenet --model-option act=hardswish --model-option attention=ca
run B4_nca             --model nca_mobilenet --model-option act=hardswish
run B5_mish_nca        --model nca_mobilenet
run B9_mish_ca         --model nca_mobilenet --model-option attention=ca  # paper B's scheme 5
run B6_mish_nca_maxavg --model nca_mobilenet --model-option nca_pool=maxavg
run B7_mnv3_small      --model mobilenetv3_small_100
run B8_mnv3_large      --model mobilenetv3_large_100
wait
