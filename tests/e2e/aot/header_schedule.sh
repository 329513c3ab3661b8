#!/usr/bin/env bash
# The header's <model>_lr(epoch) gives PyTorch's learning rate per epoch.
# Usage: header_schedule.sh GRADC MODEL.json EXPECTED OUTDIR CC
set -euo pipefail
gradc="$1" model="$2" expected="$3" out="$4" cc="$5"
name=$(basename "$model" .json)
mkdir -p "$out"
rm -f "$out/sched_$name" "$out/sched_$name.txt"
"$gradc" compile "$model" -o "$out/sched_$name.o" --header "$out/sched_$name.h"
cat > "$out/sched_$name.c" <<C
#include <stdio.h>
#include "sched_$name.h"
int main(void) {
  for (int e = 0; e < 12; ++e)
    printf("%.9g\n", (double)sched_${name}_lr(e));
  return 0;
}
C
"$cc" -std=c99 -Wall -Wextra -Werror -o "$out/sched_$name" "$out/sched_$name.c" -lm
"$out/sched_$name" > "$out/sched_$name.txt"
# float rounding of the header's double: compare to 6 significant digits. NaN, Inf, a missing
# epoch or text fail (checkers/numbers_match.sh).
bash "$(dirname "${BASH_SOURCE[0]}")/../checkers/numbers_match.sh" "$expected" \
  "$out/sched_$name.txt" 1e-6 1e-9
