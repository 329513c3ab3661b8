#!/usr/bin/env bash
# Inputs and outputs of any rank are described by the header (shape arrays of
# their own), and the object links and runs. Usage: high_rank.sh GRADC OUTDIR CC
set -euo pipefail
gradc="$1" out="$2" cc="$3"
dir=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
"$gradc" compile "$dir/rank5.json" -o "$out/rank5.o" --header "$out/rank5.h"
cat > "$out/rank5_main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "rank5.h"
int main(void) {
  float x[12], s[12], xs[12];
  void *scratch = aligned_alloc(64, RANK5_FORWARD_SCRATCH_BYTES + 64);
  for (int i = 0; i < 12; ++i)
    x[i] = (float)i;
  rank5_forward(x, s, xs, scratch);
  /* softmax over axis 1 (3 entries, stride 2): the three values sum to 1 */
  float sum = s[0] + s[2] + s[4];
  printf("rank %d, last dim %lld, sum %.6f\n", rank5_inputs[0].rank,
         (long long)rank5_inputs[0].shape[4], sum);
  free(scratch);
  return rank5_inputs[0].rank == 5 && rank5_inputs[0].shape[4] == 2 && sum > 0.9999f &&
                 sum < 1.0001f && xs[11] == 11.0f
             ? 0
             : 1;
}
C
"$cc" -std=c11 -Wall -Wextra -Werror -I"$out" -o "$out/rank5_main" "$out/rank5_main.c" \
  "$out/rank5.o" -lm
"$out/rank5_main"
