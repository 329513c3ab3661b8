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

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Installing missing packages"
bash tools/setup.sh

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
  # shellcheck disable=SC2086  # GRADC_CTEST_ARGS is a list of words on purpose
  ctest --test-dir build --output-on-failure -j2 ${GRADC_CTEST_ARGS:-}
  exit $?
fi

model=examples/models/smol_mlp.json
out="${TMPDIR:-/tmp}/gradc_demo_smol_mlp.safetensors"

step "The model $model as graph IR (gradc dump --stage parsed)"
build/gradc dump "$model" --stage parsed

step "Compile it, run forward and 20 SGD steps (gradc run)"
build/gradc run "$model" --feed examples/data/smol_mlp_feed.safetensors --out "$out" --steps 20

step "What the run wrote (gradc inspect $out)"
build/gradc inspect "$out"

cat <<HINT

What next:
  build/gradc dump $model --stage differentiated   the backward graph autodiff built
  build/gradc dump $model --stage memory --format json   the memory plan
  bash tools/quickstart.sh test                       run every test
  README.md                                           the CLI tour and the repository layout
HINT
