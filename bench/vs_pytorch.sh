#!/usr/bin/env bash
# Times gradc (JIT, `gradc bench`) and PyTorch (torchref.py bench) on the four
# example models at the same thread count and prints medians and torch/gradc ratios.
# With --runs N each side runs N times per model (alternating) and the table shows the
# median of the N medians. PyTorch runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset:
# OpenBLAS reads them when it loads, and the values this machine sets halve its speed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GRADC=${GRADC:-$ROOT/build/gradc}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=1
ITERS=100
MIN_TIME=1
RUNS=1
DIMS=()
MODELS=(smol_mlp mlp_fashion our_cnn cnn_fashion)

usage() {
  cat <<USAGE
usage: bench/vs_pytorch.sh [--threads N] [--gradc PATH] [--iters N] [--min-time S] [--runs N]
                          [--dim B=..]
  --threads N   threads for both gradc and PyTorch (default 1)
  --gradc PATH  the gradc binary (default \$GRADC or build/gradc)
  --iters N     PyTorch timed runs per function (default 100)
  --min-time S  gradc's minimum timing window per function in seconds (default 1)
  --runs N      run each side N times per model and report the median run (default 1)
  --dim B=..    override a model dimension in both (repeatable; default: the model's own)
Ratios are torch_ms / gradc_ms: above 1 means gradc is faster. PyTorch is \$PYTHON
(default /usr/bin/python3) and runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
USAGE
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --gradc) GRADC=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --min-time) MIN_TIME=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --dim) DIMS+=(--dim "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "vs_pytorch.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
  echo "vs_pytorch.sh: --runs: expected a positive integer, got '$RUNS'" >&2
  exit 2
fi
if [[ ! -x "$GRADC" ]]; then
  echo "vs_pytorch.sh: no gradc binary at $GRADC (build it, or pass --gradc PATH)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "vs_pytorch.sh: PyTorch is missing for $PYTHON (python3-torch);" \
       "install it with tools/setup.sh --goldens" >&2
  exit 1
fi

# One record per model and run: name, gradc's JSON line, torch forward and train_step medians.
records=$(mktemp)
trap 'rm -f "$records"' EXIT
for model in "${MODELS[@]}"; do
  json="$ROOT/examples/models/$model.json"
  for ((run = 1; run <= RUNS; ++run)); do
    echo "timing $model (run $run of $RUNS) ..." >&2
    g=$("$GRADC" bench "$json" --format json --threads "$THREADS" --min-time "$MIN_TIME" \
        ${DIMS[@]+"${DIMS[@]}"})
    t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" "$ROOT/tests/e2e/torchref.py" \
        bench "$json" --threads "$THREADS" --iters "$ITERS" ${DIMS[@]+"${DIMS[@]}"})
    tf=$(sed -n 's/^forward: median \([0-9.]*\) ms.*/\1/p' <<<"$t")
    ts=$(sed -n 's/^train_step: median \([0-9.]*\) ms.*/\1/p' <<<"$t")
    printf '%s\t%s\t%s\t%s\n' "$model" "$g" "${tf:-nan}" "${ts:-nan}" >>"$records"
  done
done

"$PYTHON" - "$THREADS" "$RUNS" "$records" <<'PY'
import json, math, statistics, sys

threads, runs, path = sys.argv[1], sys.argv[2], sys.argv[3]
by_model = {}  # model -> one tuple per run, in the order of the models
for line in open(path):
    model, g, tf, ts = line.rstrip("\n").split("\t")
    g = json.loads(g)
    gs = g.get("train_step_ms")
    gp = g.get("train_step_peak_fraction")
    by_model.setdefault(model, []).append(
        (g["forward_ms"], float(tf), gs if gs is not None else math.nan, float(ts),
         g["compile_ms"], gp if gp is not None else math.nan))

def median(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan

# Each column's median over the runs (each run is already a median of many calls).
rows = [(m, *(median(col) for col in zip(*runs_))) for m, runs_ in by_model.items()]

def ratio(torch_ms, gradc_ms):
    return torch_ms / gradc_ms if gradc_ms > 0 and not math.isnan(torch_ms + gradc_ms) else math.nan

print(f"threads: {threads}; runs per side: {runs}; medians in ms; "
      "ratio = torch / gradc (> 1: gradc is faster)")
head = ("model", "gradc fwd", "torch fwd", "fwd ratio", "gradc step", "torch step",
        "step ratio", "step peak", "compile ms")
fmt = "{:<12} {:>10} {:>10} {:>9} {:>10} {:>10} {:>10} {:>9} {:>10}"
print(fmt.format(*head))
fr, sr = [], []
for m, gf, tf, gs, ts, c, gp in rows:
    fr.append(ratio(tf, gf))
    sr.append(ratio(ts, gs))
    print(fmt.format(m, f"{gf:.4g}", f"{tf:.4g}", f"{fr[-1]:.2f}x", f"{gs:.4g}", f"{ts:.4g}",
                     f"{sr[-1]:.2f}x", f"{100 * gp:.1f}%", f"{c:.0f}"))

def geomean(xs):
    xs = [x for x in xs if not math.isnan(x) and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else math.nan

print(fmt.format("geomean", "", "", f"{geomean(fr):.2f}x", "", "", f"{geomean(sr):.2f}x", "", ""))
print("step peak: gradc's train step as a fraction of the measured FMA peak (gradc bench)")
PY
