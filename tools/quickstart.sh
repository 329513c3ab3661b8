#!/usr/bin/env bash
# Installs what is missing, configures and builds gradc in build/, then either shows it at work
# (demo) or runs every test (test). Usage: bash tools/quickstart.sh demo|test
# GRADC_CTEST_ARGS adds ctest arguments in `test` mode (e.g. "-LE train").
set -euo pipefail

mode="${1:-}"
if [[ "$mode" != demo && "$mode" != test ]]; then
  echo "usage: bash tools/quickstart.sh demo|test" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -t 1 ]]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

step "Installing missing packages"
# The tests also cross-compile and run under qemu (tests/e2e/cross/).
if [[ "$mode" == test ]]; then
  bash tools/setup.sh --cross
else
  bash tools/setup.sh
fi

step "Configuring (build/)"
cmake_args=(-S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [[ "${CI:-}" == true ]]; then
  cmake_args+=(-DGRADC_WERROR=ON)
fi
cmake "${cmake_args[@]}"

step "Building (2 jobs)"
ninja -C build -j2

if [[ "$mode" == test ]]; then
  step "Running every test"
  # The tests' compile cache stays in the build tree (CI caches nothing outside the clone).
  # shellcheck disable=SC2086  # GRADC_CTEST_ARGS is a list of words on purpose
  XDG_CACHE_HOME="$PWD/build/test-cache" \
    ctest --test-dir build --output-on-failure --no-tests=error -j2 ${GRADC_CTEST_ARGS:-}
  exit $?
fi

model=examples/models/smol_mlp.json
out="${TMPDIR:-/tmp}/gradc_demo_smol_mlp.safetensors"

step "The model $model as graph IR (gradc dump --stage parsed)"
build/gradc dump "$model" --stage parsed

step "Its backward graph, built symbolically: the chain rule as IR (--stage grad)"
build/gradc dump "$model" --stage grad

step "JIT-compile it, run forward and 20 SGD steps (gradc run)"
build/gradc run "$model" --feed examples/data/smol_mlp_feed.safetensors --out "$out" --steps 20

step "What the run wrote: outputs, loss, gradients, new parameters, the loss per step"
build/gradc inspect "$out" --limit 20

step "How fast the native code is (gradc bench)"
build/gradc bench "$model" --min-time 0.2

hint() { printf '  %-72s # %s\n' "$1" "$2"; }
printf '\nWhat next:\n'
hint "build/gradc dump $model --stage train" "forward + backward + SGD in one function"
hint "build/gradc dump $model --stage plan" "the fused kernels and where each value lives"
hint "build/gradc dump $model --stage llvm" "the LLVM IR the JIT compiles"
hint "build/gradc compile $model -o smol.o --header smol.h" "an object for your own C program"
hint "cat examples/embed/README.md" "embedding it with nothing but libc"
hint "ctest --test-dir build -R e2e.smol_mlp -V" "gradc against PyTorch"
hint "bash tools/quickstart.sh test" "every test"
