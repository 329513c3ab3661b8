#!/usr/bin/env bash
# Installs gradc into a temporary prefix, builds examples/cpp/ against it as
# an outside project would (find_package(gradc CONFIG REQUIRED), gradc::gradc)
# and runs both examples for a few steps.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR CXX_COMPILER
set -euo pipefail
build=$1
src=$2
cxx=$3
tmp=$(mktemp -d /tmp/gradc-package-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/gradc/gradc.h lib/cmake/gradc/gradcConfig.cmake bin/gradc; do
  [ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f is not installed" >&2; exit 1; }
done
# The installed headers name no private header, and LLVM stays private.
if grep -rEl '#include "(support|ir|frontend|driver|runtime)/|llvm/|nlohmann|boost/' \
  "$tmp/prefix/include"; then
  echo "FAIL: an installed header includes a private or third-party header" >&2
  exit 1
fi

# An outside project: only the prefix is known, nothing of gradc's tree.
cp -r "$src/examples/cpp" "$tmp/examples"
cmake -S "$tmp/examples" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log" ||
  { cat "$tmp/configure.log" >&2; exit 1; }
cmake --build "$tmp/build" >"$tmp/build.log" || { cat "$tmp/build.log" >&2; exit 1; }
# The programs find libgradc through the RUNPATH CMake gives them.
"$tmp/build/smol_mlp" 10
"$tmp/build/our_cnn" 3 "$tmp"
"$tmp/prefix/bin/gradc" dump "$tmp/our_cnn.json" --stage parsed >/dev/null
# Without CMake: pkg-config's flags alone build and link a program.
if command -v pkg-config >/dev/null; then
  flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs gradc)
  # shellcheck disable=SC2086 # the flags are words
  "$cxx" "$tmp/examples/smol_mlp.cpp" $flags -o "$tmp/smol_pc"
  "$tmp/smol_pc" 2 >/dev/null
fi
echo "libgradc: $(du -bL "$tmp"/prefix/lib/libgradc.so | cut -f1) bytes installed"
