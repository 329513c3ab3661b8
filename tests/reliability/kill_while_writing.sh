#!/usr/bin/env bash
# Nothing lost: `gradc run` killed with SIGKILL at random moments (compiling, training, writing)
# while it overwrites an existing --out file must leave that file either exactly as it was or
# exactly the new output, never partial. A temporary "<out>.tmp.<pid>" may be left by a kill;
# the next successful write to the same path removes it.
# Usage: kill_while_writing.sh GRADC MODEL FEED WEIGHTS WORKDIR ROUNDS
set -euo pipefail
gradc="$1" model="$2" feed="$3" weights="$4" work="$5" rounds="$6"
rm -rf "$work"
mkdir -p "$work"
out="$work/out.safetensors"
run() { "$gradc" run "$model" --feed "$feed" --weights "$weights" "$@"; }

run --steps 1 --out "$work/old.ref"
start=$(date +%s%N)
run --steps 2 --out "$work/new.ref"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cmp -s "$work/old.ref" "$work/new.ref" && { echo "FAIL: old and new outputs are equal" >&2; exit 1; }
echo "one run takes $ms ms; $rounds kills, half between 30% and 130% of that, half as the" \
  "temporary file appears"

kept=0 replaced=0 temps=0
for ((i = 0; i < rounds; ++i)); do
  cp "$work/old.ref" "$out"
  delay=$(( ms * 3 / 10 + RANDOM % (ms + 1) ))
  # Not through run(): $! must be gradc's own pid, not a subshell's.
  "$gradc" run "$model" --feed "$feed" --weights "$weights" --steps 2 --out "$out" 2>/dev/null &
  pid=$!
  if ((i % 2 == 0)); then
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  else
    # Every other round aims at the write itself: kill as soon as the temporary appears.
    delay="the temporary's appearance"
    while kill -0 "$pid" 2>/dev/null && [[ ! -e "$out.tmp.$pid" ]]; do :; done
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if cmp -s "$out" "$work/old.ref"; then
    kept=$((kept + 1))
  elif cmp -s "$out" "$work/new.ref"; then
    replaced=$((replaced + 1))
  else
    echo "FAIL: round $i (kill after $delay ms): $out is neither the old nor the new file" >&2
    ls -l "$work" >&2
    exit 1
  fi
  if [[ -e "$out.tmp.$pid" ]]; then
    temps=$((temps + 1))
  fi
done
if ((temps == 0)); then
  echo "FAIL: no kill landed while the output was being written" >&2
  exit 1
fi
echo "kept the old file $kept times, complete new file $replaced times;" \
  "killed with a temporary left $temps times"

# A successful write removes what killed runs left beside the target.
run --steps 2 --out "$out"
cmp -s "$out" "$work/new.ref" || { echo "FAIL: the final run wrote something else" >&2; exit 1; }
if ls "$out".tmp.* >/dev/null 2>&1; then
  echo "FAIL: stale temporaries remain after a successful write:" "$out".tmp.* >&2
  exit 1
fi
echo "ok"
