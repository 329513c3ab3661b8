#!/usr/bin/env bash
# aot.embed.matches_run: the embed example (AOT object, plain C) and `gradc run` (JIT) train
# mlp_fashion on the same weights and feed for STEPS steps; `gradc compare` then checks every
# tensor the example writes (out.fc3, loss, losses, param.*). Usage:
#   embed_matches_run.sh GRADC EMBED MODEL.json DATADIR OUTDIR [STEPS]
set -euo pipefail

if [[ $# -lt 5 ]]; then
  echo "usage: $0 GRADC EMBED MODEL.json DATADIR OUTDIR [STEPS]" >&2
  exit 2
fi
gradc="$1" embed="$2" model="$3" datadir="$4" outdir="$5" steps="${6:-3}"

mkdir -p "$outdir"
aot="$outdir/embed.aot.safetensors"
jit="$outdir/embed.jit.safetensors"
rm -f "$aot" "$jit"

echo "+ embed --steps $steps"
"$embed" --weights "$datadir/weights.safetensors" --feed "$datadir/feed.safetensors" \
  --steps "$steps" --out "$aot"
echo "+ gradc run --steps $steps"
"$gradc" run "$model" --weights "$datadir/weights.safetensors" \
  --feed "$datadir/feed.safetensors" --steps "$steps" --out "$jit"
echo "+ gradc compare (keys of the embed output)"
"$gradc" compare "$aot" "$jit" --rtol 1e-5 --atol 1e-5 | tee "$outdir/embed.compare.txt"
for key in losses out.fc3; do
  grep -q "^ok *$key:" "$outdir/embed.compare.txt" ||
    { echo "FAIL: '$key' was not compared" >&2; exit 1; }
done
