#!/usr/bin/env bash
# Installs the Debian 12 packages gradc needs to build and test, and only those still missing.
# Idempotent and non-interactive; run as root.
# Usage: bash tools/setup.sh [--goldens] [--sanitizers] [--bench] [--plots] [--cross]
#   --goldens     also python3-torch and python3-numpy, needed only by tests/e2e/make_goldens.sh.
#   --sanitizers  also clang-19's runtimes (ASan, UBSan, libFuzzer): tools/sanitize.sh.
#   --bench       also OpenBLAS: libopenblas-dev for gradc_matmul_bench (only it links OpenBLAS),
#                 libopenblas0-pthread so that PyTorch in bench/vs_pytorch.sh is a fair peer.
#   --plots       also librsvg2-bin (rsvg-convert), to render `gradc train --plot` SVGs to PNG.
#   --cross       also the cross toolchains and qemu-user of the cross tests (tests/e2e/cross/,
#                 docs/embedding.md); their C headers also give gradc the Linux triples' thread
#                 pools (rtlib/): re-run cmake and rebuild gradc after installing them.
#                 `quickstart.sh test` (and so CI) passes it.
set -euo pipefail

# clang-19 compiles rtlib/ (the thread pool linked into every model) to LLVM 19 bitcode; doxygen
# checks that every public declaration of the C++ API (include/gradc/) is documented.
# dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) is what the README's training
# examples train on; the tests make their own tiny data sets.
packages=(cmake ninja-build g++ clang-19 llvm-19-dev llvm-19-tools libboost-graph-dev
          nlohmann-json3-dev libgtest-dev libbenchmark-dev zlib1g-dev doxygen dataset-fashion-mnist)
for arg in "$@"; do
  case "$arg" in
    --goldens) packages+=(python3-torch python3-numpy) ;;
    --sanitizers) packages+=(libclang-rt-19-dev) ;;
    --bench) packages+=(libopenblas-dev libopenblas0-pthread) ;;
    --plots) packages+=(librsvg2-bin) ;;
    --cross)
      packages+=(qemu-user gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-riscv64-linux-gnu
                 libc6-dev-arm64-cross libc6-dev-armhf-cross libc6-dev-riscv64-cross
                 gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi)
      ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *)
      echo "setup.sh: unknown argument '$arg' (expected --goldens, --sanitizers, --bench, --plots or --cross)" >&2
      exit 2
      ;;
  esac
done

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup.sh: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup.sh: installing ${missing[*]}"
sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "setup.sh: not root; run as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${missing[@]}" </dev/null
echo "setup.sh: done"
