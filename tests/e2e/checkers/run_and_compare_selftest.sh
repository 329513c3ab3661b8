#!/usr/bin/env bash
# checkers.run_and_compare: run_and_compare.sh (the e2e driver) passes smol_mlp against its own
# goldens and fails against each wrong golden in wrong_golden/. Usage:
#   run_and_compare_selftest.sh GRADC DRIVER MODEL.json DATADIR WRONGDIR OUTDIR
set -euo pipefail
gradc="$1" driver="$2" model="$3" datadir="$4" wrong="$5" out="$6"
status=0
# check WANT_STATUS LABEL GOLDEN STEPS
check() {
  local want="$1" label="$2" golden="$3" steps="$4" dir="$out/rac.$2" rc=0
  rm -rf "$dir" && mkdir -p "$dir/data"
  cp "$datadir/feed.safetensors" "$datadir/weights.safetensors" "$dir/data/"
  cp "$golden" "$dir/data/run$steps.safetensors"
  bash "$driver" "$gradc" "$model" "$dir/data" "$steps" 1e-3 1e-4 1e-3 "$dir" >"$dir/log" 2>&1 ||
    rc=$?
  if [[ "$rc" -ne "$want" ]]; then
    echo "FAIL: $label: exit $rc, want $want"; sed 's/^/  /' "$dir/log"; status=1
  else
    echo "ok   $label: exit $rc ($(grep -E '^(DIFFER|MISSING|SHAPE|DTYPE)' "$dir/log" | head -n1))"
  fi
}
check 0 golden.run0 "$datadir/run0.safetensors" 0
check 0 golden.run3 "$datadir/run3.safetensors" 3
for f in "$wrong"/*.safetensors; do
  base="$(basename "$f" .safetensors)"   # <fault>.run<steps>
  check 1 "$base" "$f" "${base##*.run}"
done
exit $status
