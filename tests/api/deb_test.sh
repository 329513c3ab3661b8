#!/usr/bin/env bash
# cpack -G DEB makes a Debian package holding the library, its headers, the
# CMake and pkg-config files and the CLI, depending on LLVM's library.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
command -v dpkg-deb >/dev/null || { echo "dpkg-deb not found: skipped"; exit 0; }
tmp=$(mktemp -d /tmp/gradc-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp" >"$tmp/cpack.log" ||
  { cat "$tmp/cpack.log" >&2; exit 1; }
deb=$(ls "$tmp"/*.deb)
dpkg-deb -c "$deb" >"$tmp/files"
for f in lib/libgradc.so.0.1 include/gradc/gradc.h lib/cmake/gradc/gradcConfig.cmake \
  lib/pkgconfig/gradc.pc bin/gradc; do
  grep -q "$f" "$tmp/files" || { echo "FAIL: $f is not in $deb" >&2; exit 1; }
done
dpkg-deb -f "$deb" Depends | grep -q libllvm19 || { echo "FAIL: no dependency on libllvm19" >&2; exit 1; }
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
