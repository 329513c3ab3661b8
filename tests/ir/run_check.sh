#!/usr/bin/env bash
# Runs the RUN: line of an IR test file with %gradc and %s substituted, then
# either diffs the output against a golden file (GOLDEN: line) or feeds it to
# FileCheck with the file's CHECK lines.
#
# Each `# MUTANT: SED-SCRIPT` line is a wrong output the CHECK lines must reject: the output
# is edited with `sed -E SED-SCRIPT` (which must change it) and FileCheck must then fail. So a
# CHECK that matches too much (`exp` also matching `exp_avg`) or a CHECK-NOT that covers too
# few lines is itself caught.
set -euo pipefail
gradc=$1 filecheck=$2 test=$3 root=$4
run=$(sed -n 's/^# RUN: //p' "$test")
run=${run//%gradc/$gradc}
run=${run//%root/$root}
golden=$(sed -n 's/^# GOLDEN: //p' "$test")
out=$(cd "$root" && eval "$run")
if [ -n "$golden" ]; then
  diff -u "$root/$golden" <(printf '%s\n' "$out")
  exit
fi
printf '%s\n' "$out" | "$filecheck" "$test"

status=0
while IFS= read -r script; do
  mutant=$(printf '%s\n' "$out" | sed -E "$script")
  if [ "$mutant" = "$(printf '%s\n' "$out")" ]; then
    echo "MUTANT '$script' does not change the output: fix the test" >&2
    status=1
  elif printf '%s\n' "$mutant" | "$filecheck" "$test" >/dev/null 2>&1; then
    echo "MUTANT '$script' passes the CHECK lines: they do not pin the output down" >&2
    status=1
  else
    echo "mutant rejected: $script"
  fi
done < <(sed -n 's/^# MUTANT: //p' "$test")
exit $status
