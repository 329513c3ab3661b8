#!/usr/bin/env bash
# Compares two text files of one number per line, line by line:
# |want - got| <= RTOL * |want| + ATOL. Fails (exit 1, naming the line) on a different line
# count, on anything that is not a finite decimal number (nan, inf, empty, text) on either side,
# and on a value out of tolerance; awk alone would let NaN through, since every comparison with
# NaN is false. Usage: numbers_match.sh EXPECTED ACTUAL RTOL ATOL
set -euo pipefail
if [[ $# -ne 4 ]]; then
  echo "usage: $0 EXPECTED ACTUAL RTOL ATOL" >&2
  exit 2
fi
want="$1" got="$2" rtol="$3" atol="$4"
nw=$(wc -l <"$want") ng=$(wc -l <"$got")
if [[ "$nw" -ne "$ng" ]]; then
  echo "numbers_match: $want has $nw lines, $got has $ng" >&2
  exit 1
fi
if [[ "$nw" -eq 0 ]]; then
  echo "numbers_match: $want is empty" >&2
  exit 1
fi
paste "$want" "$got" | awk -F'\t' -v rtol="$rtol" -v atol="$atol" '
  function finite(s) { return s ~ /^[ ]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[ ]*$/ }
  {
    if (!finite($1) || !finite($2)) { print "line " NR ": not a finite number: want \"" $1 "\", got \"" $2 "\""; bad = 1; next }
    w = $1 + 0; g = $2 + 0; d = w - g; if (d < 0) d = -d; a = w < 0 ? -w : w
    if (!(d <= rtol * a + atol)) { print "line " NR ": want " $1 ", got " $2; bad = 1 }
  }
  END { exit bad }' >&2
echo "$nw numbers match"
