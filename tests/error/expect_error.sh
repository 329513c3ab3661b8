#!/bin/sh
# Runs a command that must fail cleanly: expected exit status, every extended
# regex found in its stderr, which is one line, and no output (or temporary)
# file left behind.
# Usage: expect_error.sh STATUS OUT_FILE REGEX... -- COMMAND [ARGS...]
set -u
want_status=$1
out_file=$2
shift 2
regexes_file=$(mktemp)
stderr_file=$(mktemp)
trap 'rm -f "$regexes_file" "$stderr_file"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  printf '%s\n' "$1" >>"$regexes_file"
  shift
done
if [ $# -eq 0 ]; then
  echo "expect_error.sh: missing '--' before the command" >&2
  exit 2
fi
shift
rm -f "$out_file"
"$@" >/dev/null 2>"$stderr_file"
status=$?
fail=0
if [ "$status" -ne "$want_status" ]; then
  echo "FAIL: exit status $status, expected $want_status" >&2
  fail=1
fi
if [ ! -s "$stderr_file" ]; then
  echo "FAIL: nothing on stderr" >&2
  fail=1
fi
while IFS= read -r re; do
  if ! grep -Eq -- "$re" "$stderr_file"; then
    echo "FAIL: stderr does not match /$re/" >&2
    fail=1
  fi
done <"$regexes_file"
if [ -e "$out_file" ]; then
  echo "FAIL: output file $out_file was created" >&2
  fail=1
fi
if [ "$(wc -l <"$stderr_file")" -ne 1 ]; then
  echo "FAIL: expected one line on stderr" >&2
  fail=1
fi
if ls "$out_file".tmp.* >/dev/null 2>&1; then
  echo "FAIL: a temporary file was left beside $out_file" >&2
  fail=1
fi
echo "--- stderr of: $*" >&2
cat "$stderr_file" >&2
exit $fail
