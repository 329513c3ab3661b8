#!/usr/bin/env bash
# Every public declaration of the C++ API carries a Doxygen comment: doxygen
# over include/gradc/ (docs/Doxyfile) must print no warning.
# Usage: doxygen_check.sh DOXYGEN SOURCE_DIR
set -euo pipefail
doxygen=$1
cd "$2"
tmp=$(mktemp -d /tmp/gradc-doxygen-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
{ cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $tmp"; echo "WARN_LOGFILE = $tmp/warnings"; } |
  "$doxygen" - >/dev/null
if [ -s "$tmp/warnings" ]; then
  cat "$tmp/warnings" >&2
  echo "FAIL: doxygen warns about the public API (above)" >&2
  exit 1
fi
