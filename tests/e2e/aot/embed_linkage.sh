#!/usr/bin/env bash
# aot.embed.linkage: the embed example's executable needs no shared library but libc, libm and
# pthreads (no libstdc++, no gradc or LLVM library). Usage:
#   embed_linkage.sh EMBED
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 EMBED" >&2
  exit 2
fi
needed="$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
echo "NEEDED: $(echo $needed)"
status=0
for lib in $needed; do
  case "$lib" in
  libc.so.* | libm.so.* | libpthread.so.* | ld-linux*) ;;
  *)
    echo "FAIL: $1 needs $lib (only libc, libm and pthreads are allowed)" >&2
    status=1
    ;;
  esac
done
exit $status
