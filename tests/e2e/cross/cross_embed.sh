#!/usr/bin/env bash
# cross.<triple>.embed: the embed example (examples/embed/, plain C) with mlp_fashion compiled
# for TRIPLE, linked statically by the triple's cross gcc and run under qemu-user for 3 train
# steps, matches `gradc run` (the host's JIT) within rtol 1e-4. Usage:
#   cross_embed.sh GRADC TRIPLE SOURCE_DIR OUTDIR
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 GRADC TRIPLE SOURCE_DIR OUTDIR" >&2
  exit 2
fi
gradc="$1" triple="$2" src="$3" outdir="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"
qemu="$(qemu_for "$triple")"
require_tools "$triple-gcc" "$qemu"

model="$src/examples/models/mlp_fashion.json" data="$src/tests/e2e/data/mlp_fashion"
dir="$outdir/embed.$triple"
rm -rf "$dir"
mkdir -p "$dir"
echo "+ gradc compile mlp_fashion --triple $triple"
"$gradc" compile "$model" --triple "$triple" -o "$dir/mlp_fashion.o" --header "$dir/mlp_fashion.h"
"$triple-gcc" -std=c11 -O2 -Wall -Wextra -Werror -static -I"$dir" "$src/examples/embed/main.c" \
  "$src/examples/embed/st_io.c" "$dir/mlp_fashion.o" -lm -lpthread -o "$dir/embed"
echo "+ $qemu embed --steps 3"
"$qemu" "$dir/embed" --weights "$data/weights.safetensors" --feed "$data/feed.safetensors" \
  --steps 3 --out "$dir/aot.safetensors"
"$gradc" run "$model" --weights "$data/weights.safetensors" --feed "$data/feed.safetensors" \
  --steps 3 --out "$dir/jit.safetensors" >/dev/null
"$gradc" compare "$dir/aot.safetensors" "$dir/jit.safetensors" --rtol 1e-4 --atol 1e-5 |
  tee "$dir/compare.txt"
for key in losses out.fc3; do
  grep -q "^ok *$key:" "$dir/compare.txt" || { echo "FAIL: '$key' was not compared" >&2; exit 1; }
done
echo "PASS: the embed example on $triple under $qemu matches gradc run"
