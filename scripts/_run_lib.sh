# Sourced by the scripts/ferplus_*.sh runners. Sets PY: $PYTHON, else the project's .venv
# Python when there is one, else python3. run() needs COMMON (array), OUT and DATA.
# run NAME ARGS...: train with COMMON + ARGS into $OUT/NAME, then evaluate the
# best-by-validation checkpoint once on test (log in $OUT/NAME.log).
# ROWS (a bash regex, e.g. "A.*" or "A1_base|B5_mish_nca") runs only the rows it matches, so
# fewer rows share the GPU at a time.
# run starts the row in the background; JOBS (a number) caps how many rows run at once, so
# run first waits for a free slot. End the script with `wait`.
PY=${PYTHON:-$(command -v "$(dirname "${BASH_SOURCE[0]}")/../.venv/bin/python" || echo python3)}

run() {
  local name=$1
  if [[ -n "${ROWS:-}" && ! $name =~ ^(${ROWS})$ ]]; then return 0; fi
  if [[ -n "${JOBS:-}" ]]; then
    while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n; done
  fi
  _train_and_test "$@" &
}

_train_and_test() {
  local name=$1; shift
  if "$PY" -m fervision train "${COMMON[@]}" --output "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1; then
    "$PY" -m fervision eval "$OUT/$name/best.safetensors" --data "$DATA" --split test \
      --output "$OUT/$name/test" >>"$OUT/$name.log" 2>&1
  else
    echo "$name failed, see $OUT/$name.log" >&2
  fi
}
