#!/usr/bin/env bash
# aot.generic_target: the embed example built with mlp_fashion compiled for baseline x86-64
# (--target x86-64) is a valid x86-64 object with no AVX-512 (no zmm register) nor any other
# VEX/EVEX instruction, and trains like the native build (rtol 1e-5). Usage:
#   generic_target.sh GRADC EMBED EMBED_GENERIC GENERIC_OBJ DATADIR OUTDIR
set -euo pipefail

if [[ $# -ne 6 ]]; then
  echo "usage: $0 GRADC EMBED EMBED_GENERIC GENERIC_OBJ DATADIR OUTDIR" >&2
  exit 2
fi
gradc="$1" native="$2" generic="$3" obj="$4" datadir="$5" outdir="$6"

status=0
fail() {
  echo "FAIL: $*" >&2
  status=1
}

echo "+ objdump -f $obj"
header="$(objdump -f "$obj")"
echo "$header" >&2
grep -q "file format elf64-x86-64" <<<"$header" || fail "$obj is not an elf64-x86-64 object"
# nm's output is read whole first: `nm | grep -q` fails under pipefail when grep stops early
# and nm dies of SIGPIPE.
symbols="$(nm --defined-only "$obj")"
for fn in forward backward optimizer_step train_step; do
  grep -qw "mlp_fashion_$fn" <<<"$symbols" || fail "$obj lacks mlp_fashion_$fn"
done
# Baseline x86-64 has SSE2 only: no zmm/ymm registers and no v-prefixed (VEX/EVEX) mnemonics.
for file in "$obj" "$generic"; do
  asm="$(objdump -d --no-show-raw-insn "$file")"
  zmm="$(grep -c 'zmm' <<<"$asm" || true)"
  avx="$(grep -cE $'\t(v[a-z0-9]+|[a-z]+ymm)|%ymm' <<<"$asm" || true)"
  echo "$file: $(grep -c $'\t' <<<"$asm") instructions, $zmm with zmm, $avx AVX"
  [[ "$zmm" -eq 0 ]] || fail "$file uses AVX-512 registers (zmm), e.g. $(grep -m1 zmm <<<"$asm")"
  [[ "$avx" -eq 0 ]] || fail "$file uses AVX instructions, e.g. $(grep -m1 -E $'\tv' <<<"$asm")"
done

mkdir -p "$outdir"
a="$outdir/generic.native.safetensors"
b="$outdir/generic.x86-64.safetensors"
rm -f "$a" "$b"
for pair in "$native:$a" "$generic:$b"; do
  echo "+ ${pair%%:*} --steps 3"
  "${pair%%:*}" --weights "$datadir/weights.safetensors" --feed "$datadir/feed.safetensors" \
    --steps 3 --out "${pair#*:}" || fail "${pair%%:*} failed"
done
if [[ $status -eq 0 ]]; then
  echo "+ gradc compare native x86-64"
  "$gradc" compare "$a" "$b" --rtol 1e-5 --atol 1e-6 || fail "native and x86-64 builds disagree"
fi
exit $status
