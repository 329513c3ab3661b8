#!/usr/bin/env bash
# Runs the RUN: line of an IR test file with %gradc and %s substituted, then
# either diffs the output against a golden file (GOLDEN: line) or feeds it to
# FileCheck with the file's CHECK lines.
set -euo pipefail
gradc=$1 filecheck=$2 test=$3 root=$4
run=$(sed -n 's/^# RUN: //p' "$test")
run=${run//%gradc/$gradc}
run=${run//%root/$root}
golden=$(sed -n 's/^# GOLDEN: //p' "$test")
out=$(cd "$root" && eval "$run")
if [ -n "$golden" ]; then
  diff -u "$root/$golden" <(printf '%s\n' "$out")
else
  printf '%s\n' "$out" | "$filecheck" "$test"
fi
