#!/usr/bin/env bash
# cross.<triple>.<model>: the model, with SGD-momentum and then Adam, compiled for TRIPLE and for
# x86_64-linux-gnu; a driver written from each object's header alone (make_driver.py) is linked
# statically with the triple's Debian cross gcc and run under qemu-user for 3 train steps; every
# loss and parameter matches the x86-64 object's within rtol 1e-4. Usage:
#   cross_train.sh GRADC MODEL.json TRIPLE OUTDIR [--dim NAME=V]...
set -euo pipefail

if [[ $# -lt 4 ]]; then
  echo "usage: $0 GRADC MODEL.json TRIPLE OUTDIR [--dim NAME=V]..." >&2
  exit 2
fi
gradc="$1" model="$2" triple="$3" outdir="$4"
shift 4
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"

qemu="$(qemu_for "$triple")"
require_tools "$triple-gcc" "$qemu" gcc python3

name="$(basename "$model" .json)"
# The header must compile warning-free as pedantic C99 with the target's compiler.
cflags=(-std=c99 -pedantic -O2 -Wall -Wextra -Werror)
for optimizer in momentum adam; do
  dir="$outdir/$name.$optimizer.$triple"
  rm -rf "$dir"
  mkdir -p "$dir/x86_64-linux-gnu" "$dir/$triple"
  with_optimizer "$model" "$optimizer" "$dir/$name.json"
  for t in x86_64-linux-gnu "$triple"; do
    echo "+ gradc compile $name ($optimizer) --triple $t $*"
    "$gradc" compile "$dir/$name.json" --triple "$t" "$@" -o "$dir/$t/$name.o" \
      --header "$dir/$t/$name.h"
    python3 "$here/make_driver.py" "$dir/$t/$name.h" >"$dir/$t/driver.c"
  done
  gcc "${cflags[@]}" -I"$dir/x86_64-linux-gnu" "$dir/x86_64-linux-gnu/driver.c" \
    "$dir/x86_64-linux-gnu/$name.o" -lm -lpthread -o "$dir/x86_64-linux-gnu/driver"
  "$triple-gcc" "${cflags[@]}" -static -I"$dir/$triple" "$dir/$triple/driver.c" \
    "$dir/$triple/$name.o" -lm -lpthread -o "$dir/$triple/driver"
  "$dir/x86_64-linux-gnu/driver" >"$dir/expected.txt"
  echo "+ $qemu driver ($optimizer, 3 steps)"
  "$qemu" "$dir/$triple/driver" >"$dir/actual.txt"
  python3 "$here/compare_outputs.py" "$dir/expected.txt" "$dir/actual.txt" --rtol 1e-4
done
echo "PASS: $name on $triple under $qemu matches x86-64 (SGD-momentum and Adam)"
