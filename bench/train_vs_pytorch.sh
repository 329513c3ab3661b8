#!/usr/bin/env bash
# Trains a model on Fashion-MNIST with gradc and with PyTorch (torchref.py train), one after
# the other on the same machine, and prints each side's last test accuracy and wall time.
# Usage: bench/train_vs_pytorch.sh MODEL.json EPOCHS [SEED] [THREADS]
#   e.g. bench/train_vs_pytorch.sh examples/models/mlp_fashion.json 10 1
# THREADS (default: every CPU) is given to both. Wall time is the whole command: startup,
# compile (gradc; from the compile cache after the first run), data loading, training and the
# test passes. PyTorch is $PYTHON (default /usr/bin/python3, with python3-torch) and runs with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see bench/vs_pytorch.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GRADC=${GRADC:-$ROOT/build/gradc}
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
[[ $# -ge 2 ]] || { sed -n '2,9p' "$0"; exit 2; }
MODEL=$1 EPOCHS=$2 SEED=${3:-1} THREADS=${4:-$(nproc)}
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

wall() { # wall NAME CMD...: runs CMD, its output to $LOG/NAME, prints the seconds it took
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >"$LOG/$name" 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

g=$(wall gradc "$GRADC" train "$MODEL" --data "$DATA" --epochs "$EPOCHS" --seed "$SEED" \
  --threads "$THREADS")
t=$(wall torch env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" \
  "$ROOT/tests/e2e/torchref.py" train "$MODEL" --data "$DATA" --epochs "$EPOCHS" --seed "$SEED" \
  --threads "$THREADS")
grep '^epoch' "$LOG/gradc" | sed 's/^/gradc:   /'
grep '^epoch' "$LOG/torch" | sed 's/^/pytorch: /'
printf '%s, %s epochs, seed %s, %s threads\n' "$(basename "$MODEL")" "$EPOCHS" "$SEED" "$THREADS"
printf 'gradc:   test accuracy %s, wall %.1f s\n' \
  "$(grep -o 'test accuracy [0-9.]*%' "$LOG/gradc" | tail -1 | cut -d' ' -f3)" "$g"
printf 'pytorch: test accuracy %s, wall %.1f s\n' \
  "$(grep -o 'test accuracy [0-9.]*%' "$LOG/torch" | tail -1 | cut -d' ' -f3)" "$t"
