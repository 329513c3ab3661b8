#!/usr/bin/env bash
# One e2e check: runs `gradc run` on a model with its golden feed and weights, then compares the
# result to the torchref golden run<STEPS>.safetensors with `gradc compare` (elementwise
# RTOL/ATOL, and per tensor max|a-b| <= SCALE_RTOL * max|golden|; NaN and Inf always fail, and
# so does a tensor gradc writes that the golden lacks).
# Usage:
#   run_and_compare.sh GRADC MODEL.json DATADIR STEPS RTOL ATOL SCALE_RTOL OUTDIR
#                      [extra gradc run args...]
set -euo pipefail

if [[ $# -lt 8 ]]; then
  echo "usage: $0 GRADC MODEL.json DATADIR STEPS RTOL ATOL SCALE_RTOL OUTDIR [gradc run args...]" >&2
  exit 2
fi
gradc="$1" model="$2" datadir="$3" steps="$4" rtol="$5" atol="$6" scale="$7" outdir="$8"
shift 8

name="$(basename "$model" .json)"
golden="$datadir/run$steps.safetensors"
out="$outdir/$name.run$steps.safetensors"
for f in "$model" "$datadir/feed.safetensors" "$datadir/weights.safetensors" "$golden"; do
  [[ -f "$f" ]] || { echo "run_and_compare: missing $f" >&2; exit 2; }
done
mkdir -p "$outdir"
rm -f "$out"  # never compare a stale result

step_args=()
if [[ "$steps" -gt 0 ]]; then
  step_args=(--steps "$steps")
fi
echo "+ gradc run $model --steps $steps"
"$gradc" run "$model" --feed "$datadir/feed.safetensors" \
  --weights "$datadir/weights.safetensors" "${step_args[@]}" --out "$out" "$@"
echo "+ gradc compare $golden $out --rtol $rtol --atol $atol --scale-rtol $scale"
exec "$gradc" compare "$golden" "$out" --rtol "$rtol" --atol "$atol" --scale-rtol "$scale" --no-extra
