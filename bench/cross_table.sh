#!/usr/bin/env bash
# The per-target table of docs/embedding.md: for each model and triple, the object file's size,
# the flash its code and constants take (the header's <MODEL>_FLASH_BYTES), the train step's RAM
# (<MODEL>_TRAIN_STEP_RAM_BYTES: params, grads or optimizer state, arena, static data) and train
# steps per second of the make_driver.py driver under qemu-user (x86-64: natively), a figure
# only for comparing gradc versions on one machine. Needs `bash tools/setup.sh --cross`. Usage:
#   bench/cross_table.sh GRADC OUTDIR [MODEL.json[:DIM=V]]...
set -euo pipefail
gradc="$1" outdir="$2"
shift 2
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(examples/models/smol_mlp.json examples/models/cnn_fashion.json:B=8)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$outdir"

printf '| model | triple | object bytes | flash bytes | train-step RAM bytes | steps/s (qemu) |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: |\n'
for spec in "${models[@]}"; do
  model="${spec%%:*}" dims=()
  [[ "$spec" == *:* ]] && dims=(--dim "${spec#*:}")
  name="$(basename "$model" .json)"
  upper="${name^^}"
  for triple in x86_64-linux-gnu aarch64-linux-gnu arm-linux-gnueabihf riscv64-linux-gnu \
    thumbv7em-none-eabihf; do
    dir="$outdir/$name.$triple"
    mkdir -p "$dir"
    "$gradc" compile "$model" "${dims[@]}" --triple "$triple" -o "$dir/$name.o" \
      --header "$dir/$name.h"
    macro() { awk -v m="${upper}_$1" '$2 == m {print $3}' "$dir/$name.h"; }
    python3 "$here/tests/e2e/cross/make_driver.py" "$dir/$name.h" >"$dir/driver.c"
    rate="n/a"
    case "$triple" in
      x86_64-linux-gnu) cc=gcc run=() ;;
      aarch64-linux-gnu) cc=$triple-gcc run=(qemu-aarch64) ;;
      arm-linux-gnueabihf) cc=$triple-gcc run=(qemu-arm) ;;
      riscv64-linux-gnu) cc=$triple-gcc run=(qemu-riscv64) ;;
      *) cc="" ;;
    esac
    if [[ -n "$cc" ]]; then
      "$cc" -std=c11 -O2 -static -DGRADC_BENCH -I"$dir" "$dir/driver.c" "$dir/$name.o" -lm \
        -lpthread -o "$dir/bench"
      rate="$("${run[@]}" "$dir/bench")"
    fi
    printf '| %s%s | %s | %d | %d | %d | %s |\n' "$name" "${dims[1]:+ (${dims[1]})}" "$triple" \
      "$(stat -c %s "$dir/$name.o")" "$(macro FLASH_BYTES)" "$(macro TRAIN_STEP_RAM_BYTES)" "$rate"
  done
done
