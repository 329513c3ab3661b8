#!/usr/bin/env bash
# cross.no_threads.symbols: `gradc compile --no-threads` on the host gives an object with no
# thread pool: its undefined symbols are only memcpy, memmove, memset, expf and logf (no
# pthreads, no CPU count), it has no writable data, and its header says THREADS 0. Usage:
#   no_threads.sh GRADC MODEL.json OUTDIR
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 GRADC MODEL.json OUTDIR" >&2
  exit 2
fi
gradc="$1" model="$2" outdir="$3"
name="$(basename "$model" .json)"
dir="$outdir/$name.no_threads"
rm -rf "$dir"
mkdir -p "$dir"
echo "+ gradc compile $name --no-threads"
"$gradc" compile "$model" --no-threads -o "$dir/$name.o" --header "$dir/$name.h"

status=0
allowed="memcpy memmove memset expf logf"
undefined="$(nm -u "$dir/$name.o" | awk '{print $NF}' | sort)"
echo "undefined symbols: $(echo $undefined)"
for sym in $undefined; do
  grep -qw -- "$sym" <<<"$allowed" ||
    { echo "FAIL: $name.o needs '$sym' (allowed: $allowed)" >&2; status=1; }
done
if nm "$dir/$name.o" | grep -E ' [bBdD] '; then
  echo "FAIL: $name.o has static data (a thread pool?)" >&2
  status=1
fi
upper="$(tr '[:lower:]' '[:upper:]' <<<"$name")"
grep -q "^#define ${upper}_THREADS 0$" "$dir/$name.h" ||
  { echo "FAIL: the header does not say ${upper}_THREADS 0" >&2; status=1; }
[[ $status -eq 0 ]] && echo "PASS: $name.o --no-threads needs only $allowed"
exit $status
