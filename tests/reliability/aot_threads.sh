#!/usr/bin/env bash
# Concurrency stress through an AOT object: T concurrent instances of the embed example (each its
# own parameters, state and scratch) train N steps and must match the one-thread run bit for bit.
# Usage: aot_threads.sh EMBED DATADIR OUTDIR THREADS STEPS
set -euo pipefail
embed="$1" datadir="$2" outdir="$3" threads="$4" steps="$5"
mkdir -p "$outdir"
log="$outdir/aot_threads.txt"
rc=0
"$embed" --weights "$datadir/weights.safetensors" --feed "$datadir/feed.safetensors" \
  --steps "$steps" --threads "$threads" >"$log" 2>&1 || rc=$?
cat "$log"
[[ $rc -eq 0 ]] || { echo "FAIL: embed --threads $threads exited with status $rc" >&2; exit 1; }
grep -q "$threads concurrent instances match the one-thread run bit for bit" "$log" ||
  { echo "FAIL: embed --threads $threads did not report matching runs" >&2; exit 1; }
