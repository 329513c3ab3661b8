# Sourced by the cross tests: require_tools TOOL... checks that every tool is on PATH. A missing
# one fails the test in CI (CI=true), which must run it; elsewhere the test is skipped (exit 77,
# CTest's SKIP_RETURN_CODE here) with the reason printed. `bash tools/setup.sh --cross` installs
# them all.
require_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local why="missing ${missing[*]} (bash tools/setup.sh --cross installs the cross toolchains and qemu-user)"
  if [[ "${CI:-}" == true ]]; then
    echo "FAIL: $why" >&2
    exit 1
  fi
  echo "SKIP: $why"
  exit 77
}

# The qemu-user emulator of a Linux triple.
qemu_for() {
  case "$1" in
    aarch64-linux-gnu) echo qemu-aarch64 ;;
    arm-linux-gnueabihf) echo qemu-arm ;;
    riscv64-linux-gnu) echo qemu-riscv64 ;;
    *) echo "tools.sh: no qemu for '$1'" >&2; exit 2 ;;
  esac
}

# The model file `model` with its optimizer replaced: momentum (SGD, lr 0.01, momentum 0.9) or
# adam (lr 0.001). Small enough steps that three of them stay well-conditioned: with Adam at lr
# 0.01 cnn_fashion's loss jumps 2.4, 0.12, 3.1 and the targets' libm rounding (expf, logf) grows
# past rtol 1e-4, as it does between two x86-64 objects (native and baseline) of that setting.
with_optimizer() {
  local model="$1" optimizer="$2" out="$3"
  python3 - "$model" "$optimizer" "$out" <<'PY'
import json, sys
model, optimizer, out = sys.argv[1:]
m = json.load(open(model))
m["optimizer"] = {"momentum": {"op": "sgd", "lr": 0.01, "momentum": 0.9},
                  "adam": {"op": "adam", "lr": 0.001}}[optimizer]
json.dump(m, open(out, "w"), indent=1)
PY
}
