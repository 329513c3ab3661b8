#!/usr/bin/env bash
# aot.embed.kernel_threads: the object's mlp_fashion_set_threads works, and changes no bit: the
# embed example writes the same file with its kernels on 1, 2, 3 and 7 threads. Usage:
#   embed_kernel_threads.sh EMBED DATADIR OUTDIR
set -euo pipefail
embed="$1" datadir="$2" outdir="$3"
mkdir -p "$outdir"
for n in 1 2 3 7; do
  "$embed" --weights "$datadir/weights.safetensors" --feed "$datadir/feed.safetensors" \
    --steps 3 --kernel-threads "$n" --out "$outdir/embed.kernel_threads.$n.safetensors" >/dev/null
done
for n in 2 3 7; do
  if ! cmp "$outdir/embed.kernel_threads.1.safetensors" "$outdir/embed.kernel_threads.$n.safetensors"; then
    echo "FAIL: --kernel-threads $n differs from --kernel-threads 1" >&2
    exit 1
  fi
done
echo "PASS: 1, 2, 3 and 7 kernel threads write the same bytes"
