#!/usr/bin/env bash
# The JIT against the reference interpreter on one model: the forward pass,
# gradients and 3 training steps of both backends agree to rtol 1e-5. Both sides are gradc: this
# is a consistency check, not correctness evidence. Whatever the backends share (the graph
# passes, autodiff, the optimizer step, the safetensors writer) can be wrong and still pass;
# the goldens (e2e.<model>.forward/train3) are the correctness check. Usage:
#   jit_vs_interp.sh GRADC MODEL.json DATADIR OUTDIR
set -euo pipefail
gradc="$1" model="$2" datadir="$3" outdir="$4"
name="$(basename "$model" .json)"
mkdir -p "$outdir"
steps=()
[[ -f "$datadir/run3.safetensors" ]] && steps=(--steps 3)
for backend in interp jit; do
  out="$outdir/$name.$backend.safetensors"
  rm -f "$out"
  "$gradc" run "$model" --feed "$datadir/feed.safetensors" --weights "$datadir/weights.safetensors" \
    "${steps[@]}" --backend "$backend" --out "$out"
done
exec "$gradc" compare "$outdir/$name.interp.safetensors" "$outdir/$name.jit.safetensors" \
  --rtol 1e-5 --atol 1e-6
