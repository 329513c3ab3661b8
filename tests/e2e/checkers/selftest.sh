#!/usr/bin/env bash
# checkers.numbers_match: numbers_match.sh accepts equal columns and rejects each kind of wrong
# input (a test that can only pass proves nothing). Usage: selftest.sh OUTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
mkdir -p "$out"
status=0
want="$out/want.txt"
printf '0.1\n0.0914057647\n-2.5e-3\n0\n' >"$want"

# expect STATUS NAME LINES...: numbers_match.sh on `want` and the given lines exits STATUS.
expect() {
  local code="$1" name="$2" got="$out/got.$2.txt"
  shift 2
  printf '%s\n' "$@" >"$got"
  local rc=0
  bash "$here/numbers_match.sh" "$want" "$got" 1e-6 1e-9 >"$got.log" 2>&1 || rc=$?
  if [[ "$rc" -ne "$code" ]]; then
    echo "FAIL: $name: exit $rc, want $code"; sed 's/^/  /' "$got.log"; status=1
  else
    echo "ok   $name: exit $rc ($(tail -n1 "$got.log"))"
  fi
}

expect 0 equal 0.1 0.0914057647 -2.5e-3 0
expect 0 rounding 0.100000001 0.0914057648 -0.0025 0.0
expect 1 perturbed 0.1 0.0914 -2.5e-3 0
expect 1 sign -0.1 0.0914057647 -2.5e-3 0
expect 1 nan 0.1 nan -2.5e-3 0
expect 1 minus_nan 0.1 -nan -2.5e-3 0
expect 1 NaN 0.1 NaN -2.5e-3 0
expect 1 inf 0.1 0.0914057647 inf 0
expect 1 minus_inf 0.1 0.0914057647 -inf 0
expect 1 text 0.1 0.0914057647 -2.5e-3 zero
expect 1 empty_field 0.1 "" -2.5e-3 0
expect 1 missing_line 0.1 0.0914057647 -2.5e-3
expect 1 extra_line 0.1 0.0914057647 -2.5e-3 0 0
exit $status
