#!/usr/bin/env bash
# The sanitizer and fuzzing stages of CI (.ci/run runs them after `quickstart.sh test`):
#   1. builds everything into build-asan/ with clang-19, AddressSanitizer, UndefinedBehaviorSanitizer
#      and the libFuzzer targets (-DGRADC_SANITIZE=ON -DGRADC_FUZZ=ON);
#   2. runs the unit, IR, error, checker and fuzz-replay tests under the sanitizers, and a sample
#      of the JIT-heavy end-to-end tests (GRADC_ASAN_E2E, a ctest -R regex);
#   3. runs each fuzz target for GRADC_FUZZ_SECONDS (default 60) from seeds made from the project's
#      models, IR dumps and tensor files (tests/fuzz/run.sh); any crash fails.
# Usage: bash tools/sanitize.sh [build|test|fuzz]...   (default: all three, in that order)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(build test fuzz)
step() { printf '\n== %s\n' "$*"; }
dir=build-asan

for stage in "${stages[@]}"; do
  case "$stage" in
    build)
      step "Installing missing packages (clang-19, its sanitizer and libFuzzer runtimes)"
      bash tools/setup.sh --sanitizers
      step "Configuring ($dir/: clang-19, ASan + UBSan, libFuzzer targets)"
      # -O1 and line tables only: quick to build, still fast enough to fuzz and test.
      cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELEASE="-O1" \
        -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
        -DGRADC_WERROR=OFF -DGRADC_SANITIZE=ON -DGRADC_FUZZ=ON >/dev/null
      step "Building $dir/ (2 jobs)"
      ninja -C "$dir" -j2
      ;;
    test)
      step "Tests under ASan + UBSan (unit, IR, errors, checkers, fuzz replay; e2e sampled)"
      # LeakSanitizer is off for the tests: LLVM's JIT keeps some allocations until exit by design.
      export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
      export XDG_CACHE_HOME="$dir/test-cache"
      ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 -LE 'e2e|aot|reliability|address_limit'
      ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 \
        -R "${GRADC_ASAN_E2E:-^(e2e\.(smol_mlp|cnn_skip_connection)\.(forward|train3)|e2e\.smol_mlp\.interp\.train3|aot\.embed\.threads)$}"
      ;;
    fuzz)
      step "Fuzzing: ${GRADC_FUZZ_SECONDS:-60} s per target"
      bash tests/fuzz/run.sh "$dir" "${GRADC_FUZZ_SECONDS:-60}"
      ;;
    *)
      echo "sanitize.sh: unknown stage '$stage' (expected build, test or fuzz)" >&2
      exit 2
      ;;
  esac
done
