#!/usr/bin/env bash
# aot.embed.threads: 2 concurrent instances of the embed example train bitwise like one thread.
# The example must both exit 0 and say so (a crash after the message fails). Usage:
#   embed_threads.sh EMBED DATADIR OUTDIR
set -euo pipefail
embed="$1" datadir="$2" outdir="$3"
mkdir -p "$outdir"
log="$outdir/embed.threads.txt"
rc=0
"$embed" --weights "$datadir/weights.safetensors" --feed "$datadir/feed.safetensors" \
  --steps 5 --threads 2 >"$log" 2>&1 || rc=$?
cat "$log"
if [[ "$rc" -ne 0 ]]; then
  echo "FAIL: embed --threads 2 exited with status $rc" >&2
  exit 1
fi
grep -q "2 concurrent instances match the one-thread run bit for bit" "$log" ||
  { echo "FAIL: embed --threads 2 did not report matching runs" >&2; exit 1; }
