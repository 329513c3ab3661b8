#!/usr/bin/env bash
# Runs each libFuzzer target of a -DGRADC_FUZZ=ON build for a bounded time, starting from seed
# corpora made now from the project's own files (nothing is copied into the repository), and
# fails if any target crashes, leaks, times out on one input or exceeds its memory limit.
# Usage: bash tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
#   TARGET: model, ir_text, safetensors, cache_entry (default: all four).
# A crashing input is left in BUILD_DIR/fuzz/artifacts/TARGET/; copy it to
# tests/fuzz/regressions/TARGET/ (replayed by the CTest test fuzz.replay.TARGET) and fix the bug.
set -euo pipefail
build="$(cd "$1" && pwd)" seconds="$2"
shift 2
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(model ir_text safetensors cache_entry)
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$build/fuzz"

seed_model() {
  cp "$src"/examples/models/*.json "$src"/tests/models/*.json "$src"/tests/error/models/*.json "$1"/
}
seed_ir_text() {
  cp "$src"/tests/ir/opt/*.ir "$src"/tests/error/ir/*.ir "$1"/
  # Dumps of every stage of the small models: the text the parser is meant for.
  local m stage
  for m in "$src"/examples/models/smol_mlp.json "$src"/tests/models/*.json; do
    for stage in parsed grad train fusion; do
      "$build/gradc" dump "$m" --stage "$stage" >"$1/$(basename "$m" .json).$stage.ir" 2>/dev/null ||
        rm -f "$1/$(basename "$m" .json).$stage.ir"
    done
  done
}
seed_safetensors() {
  cp "$src"/tests/error/tensors/*.safetensors "$src"/tests/unit/runtime/data/*.safetensors "$1"/
  local d
  for d in "$src"/tests/e2e/data/*/; do
    # The feeds and weights of the small models (the fashion models' are too large to mutate well).
    if [[ $(stat -c %s "$d/feed.safetensors") -lt 65536 ]]; then
      cp "$d/feed.safetensors" "$1/$(basename "$d").feed.safetensors"
      cp "$d/weights.safetensors" "$1/$(basename "$d").weights.safetensors"
    fi
  done
}
seed_cache_entry() {
  # Real entries of the small models, in both modes of the target (its first byte).
  local cache
  cache="$(mktemp -d)"
  local m
  for m in "$src"/examples/models/smol_mlp.json "$src"/tests/models/*.json; do
    XDG_CACHE_HOME="$cache" "$build/gradc" bench "$m" --min-time 0 >/dev/null 2>&1 || true
  done
  local e n=0
  for e in "$cache"/gradc/*.o; do
    [[ -f "$e" && $(stat -c %s "$e") -lt 65536 ]] || continue
    { printf '\001'; cat "$e"; } >"$1/entry$n.raw"
    { printf '\002'; head -c -8 "$e"; } >"$1/entry$n.body"
    n=$((n + 1))
  done
  rm -rf "$cache"
}

status=0
for t in "${targets[@]}"; do
  bin="$work/fuzz_$t"
  [[ -x "$bin" ]] || { echo "run.sh: $bin is missing (configure with -DGRADC_FUZZ=ON)" >&2; exit 2; }
  corpus="$work/corpus/$t" seeds="$work/seeds/$t" artifacts="$work/artifacts/$t"
  rm -rf "$seeds" "$artifacts"
  mkdir -p "$corpus" "$seeds" "$artifacts"
  "seed_$t" "$seeds"
  # Regressions are seeds too: mutations of a past crash find its relatives.
  if [[ -d "$src/tests/fuzz/regressions/$t" ]]; then
    cp "$src/tests/fuzz/regressions/$t"/* "$seeds"/
  fi
  echo "== fuzz_$t: $(ls "$seeds" | wc -l) seeds, $seconds s"
  log="$work/fuzz_$t.log"
  dict=()
  [[ -f "$src/tests/fuzz/$t.dict" ]] && dict=(-dict="$src/tests/fuzz/$t.dict")
  rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
    "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+ *DONE' "$log" ||
    true
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: fuzz_$t exited with status $rc; log $log, input(s) in $artifacts:" >&2
    ls "$artifacts" >&2
    tail -60 "$log" >&2
    status=1
  fi
done
exit $status
