// Timing calls too short for the clock one at a time (gradc bench, driver/bench.cpp, and the
// matmul benchmark, bench/matmul_bench.cpp): a sample is a batch of back-to-back calls, its time
// divided among them. This machine's clock reads in steps of 10 ns and a pair of reads costs
// about 20 ns, while smol_mlp's calls take 0.1-0.3 us and its matmuls 10-20 ns.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace gradc::support {

/// Seconds that `calls` back-to-back calls of `fn` take.
template <class Fn> double timeBatch(Fn &fn, int64_t calls) {
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < calls; ++i)
    fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The fewest calls, a power of two up to `most`, whose fastest of three batches takes at
/// least `min_seconds` (the fastest, so that one preempted batch does not decide).
template <class Fn> int64_t batchSize(Fn &fn, double min_seconds, int64_t most) {
  int64_t calls = 1;
  while (calls < most &&
         std::min({timeBatch(fn, calls), timeBatch(fn, calls), timeBatch(fn, calls)}) < min_seconds)
    calls *= 2;
  return calls;
}

} // namespace gradc::support
