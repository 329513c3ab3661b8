#!/usr/bin/env bash
# Rewrites the GOLDEN files of tests/ir/*.test from the current build/gradc.
# Review the diff: a golden changes only on purpose.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
for t in "$root"/tests/ir/*.test; do
  golden=$(sed -n 's/^# GOLDEN: //p' "$t")
  [ -n "$golden" ] || continue
  run=$(sed -n 's/^# RUN: //p' "$t")
  run=${run//%gradc/$root/build/gradc}
  (cd "$root" && eval "$run") > "$root/$golden"
done
