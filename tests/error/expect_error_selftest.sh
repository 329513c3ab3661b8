#!/bin/sh
# expect_error.sh is the checker behind every error test: show that it fails
# on each kind of wrong behaviour, and passes on the right one.
# Usage: expect_error_selftest.sh SCRATCH_DIR
set -u
here=$(dirname "$0")
dir=$1
mkdir -p "$dir"
out="$dir/selftest.out"
fail=0
# expect WANT(0|1) NAME -- COMMAND...: expect_error.sh's verdict on a command
# that should exit 1 with one line matching 'bad thing' and write no $out.
expect() {
  want=$1 name=$2
  shift 3
  sh "$here/expect_error.sh" 1 "$out" "bad thing" -- "$@" >/dev/null 2>&1
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: expect_error.sh exited $got, expected $want" >&2
    fail=1
  else
    echo "ok   $name"
  fi
}
expect 0 right_failure -- sh -c 'echo "a bad thing" >&2; exit 1'
expect 1 exit_status_0 -- sh -c 'echo "a bad thing" >&2; exit 0'
expect 1 exit_status_crash -- sh -c 'echo "a bad thing" >&2; kill -ABRT $$'
expect 1 message_mismatch -- sh -c 'echo "a good thing" >&2; exit 1'
expect 1 two_lines -- sh -c 'printf "a bad thing\nmore\n" >&2; exit 1'
expect 1 silent -- sh -c 'exit 1'
expect 1 output_written -- sh -c "echo 'a bad thing' >&2; touch '$out'; exit 1"
expect 1 temporary_left -- sh -c "echo 'a bad thing' >&2; touch '$out.tmp.1'; exit 1"
rm -f "$out" "$out".tmp.*
exit $fail
