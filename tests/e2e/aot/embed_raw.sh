#!/usr/bin/env bash
# aot.embed.raw: parameters saved with --save-raw and loaded with --raw train exactly like the
# same parameters loaded by name from safetensors. Usage:
#   embed_raw.sh GRADC EMBED DATADIR OUTDIR
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 GRADC EMBED DATADIR OUTDIR" >&2
  exit 2
fi
gradc="$1" embed="$2" datadir="$3" outdir="$4"
feed="$datadir/feed.safetensors"

mkdir -p "$outdir"
raw="$outdir/embed.weights.bin"
rm -f "$raw" "$outdir/embed.raw.safetensors" "$outdir/embed.named.safetensors"

echo "+ embed --steps 0 --save-raw"
"$embed" --weights "$datadir/weights.safetensors" --feed "$feed" --steps 0 --save-raw "$raw"
echo "+ embed --raw --steps 2"
"$embed" --raw "$raw" --feed "$feed" --steps 2 --out "$outdir/embed.raw.safetensors"
echo "+ embed --weights --steps 2"
"$embed" --weights "$datadir/weights.safetensors" --feed "$feed" --steps 2 \
  --out "$outdir/embed.named.safetensors"
exec "$gradc" compare "$outdir/embed.named.safetensors" "$outdir/embed.raw.safetensors" \
  --rtol 0 --atol 0
