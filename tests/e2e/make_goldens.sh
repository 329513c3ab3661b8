#!/usr/bin/env bash
# Regenerates the PyTorch goldens of tests/e2e/data/ and examples/data/ with the repository's copy
# of torchref.py. Only for regeneration: the tests themselves never run Python.
# Needs python3-torch and python3-numpy (bash tools/setup.sh --goldens). Usage:
#   bash tests/e2e/make_goldens.sh [MODEL.json...]   (default: every reference and test model)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
py=/usr/bin/python3
ref=tests/e2e/torchref.py
tools=tests/e2e/golden_tools.py
data=tests/e2e/data
# grad.*/param.* tensors above this size (the fashion models' fc1) are stored in run3 as 256
# sampled elements and 4 statistics (golden_tools.py trim), which `gradc compare` checks.
max_elements=50000

if [[ $# -gt 0 ]]; then
  models=("$@")
else
  models=(examples/models/*.json tests/models/*.json)
fi

"$py" "$tools" coverage tests/models/*.json

for model in "${models[@]}"; do
  name="$(basename "$model" .json)"
  out="$data/$name"
  echo "== $name"
  mkdir -p "$out"
  rm -f "$out"/*.safetensors
  "$py" "$ref" feed "$model" --seed 1 --out "$out/feed.safetensors"
  "$py" "$ref" init "$model" --seed 2 --out "$out/weights.safetensors"
  "$py" "$ref" run "$model" --feed "$out/feed.safetensors" --weights "$out/weights.safetensors" \
    --steps 0 --out "$out/run0.safetensors"
  # Training needs a loss; models without one get forward goldens only.
  if "$py" -c 'import json, sys; sys.exit(0 if "loss" in json.load(open(sys.argv[1])) else 1)' \
    "$model"; then
    "$py" "$ref" run "$model" --feed "$out/feed.safetensors" \
      --weights "$out/weights.safetensors" --steps 3 --out "$out/run3.safetensors"
    "$py" "$tools" trim "$out/run3.safetensors" --max-elements "$max_elements"
  fi
done

mkdir -p examples/data
"$py" "$ref" feed examples/models/smol_mlp.json --seed 1 --out examples/data/smol_mlp_feed.safetensors
"$py" "$tools" schedules --out "$data/schedules.json"
echo "goldens: $(du -sh "$data" | cut -f1) in $data"
