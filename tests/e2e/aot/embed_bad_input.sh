#!/usr/bin/env bash
# aot.embed.bad_input: given a missing, truncated or corrupt weights, feed or raw file, the embed
# example exits with status 1 and one clear "error:" line naming the file — never a crash — and
# writes no --out file. Usage:
#   embed_bad_input.sh EMBED DATADIR OUTDIR
set -uo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 EMBED DATADIR OUTDIR" >&2
  exit 2
fi
embed="$1" datadir="$2" outdir="$3"
weights="$datadir/weights.safetensors"
feed="$datadir/feed.safetensors"
dir="$outdir/bad_input"
rm -rf "$dir"
mkdir -p "$dir"

# Corrupt files, each named for what is wrong with it.
head -c 3 "$weights" >"$dir/tiny.safetensors"
head -c 200 "$weights" >"$dir/cut_header.safetensors"
head -c 500000 "$weights" >"$dir/cut_data.safetensors"
: >"$dir/empty.safetensors"
# A header length of 2^63 (far past the end of the file).
printf '\x00\x00\x00\x00\x00\x00\x00\x80{}' >"$dir/huge_len.safetensors"
st() {  # st FILE JSON DATA_BYTES: a hand-made safetensors file
  local json="$2" n
  n=${#json}
  printf "$(printf '\\x%02x\\x%02x\\x00\\x00\\x00\\x00\\x00\\x00' $((n & 255)) $((n >> 8)))" >"$1"
  printf '%s' "$json" >>"$1"
  head -c "$3" /dev/zero >>"$1"
}
st "$dir/bad_json.safetensors" '{"fc1.weight":{"dtype":"F32","shape":[2' 0
st "$dir/bad_shape.safetensors" '{"fc1.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' 8
st "$dir/bad_offsets.safetensors" '{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}' 8
st "$dir/size_mismatch.safetensors" '{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}' 8
st "$dir/extra.safetensors" '{"fc9.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' 4
# label[0] = -1: a class index the generated code must never see.
st "$dir/bad_label.safetensors" '{"image":{"dtype":"F32","shape":[64,1,28,28],'\
'"data_offsets":[0,200704]},"label":{"dtype":"I32","shape":[64],'\
'"data_offsets":[200704,200960]}}' 200704
{ printf '\xff\xff\xff\xff'; head -c 252 /dev/zero; } >>"$dir/bad_label.safetensors"
head -c 100 /dev/zero >"$dir/short.bin"

status=0
# expect_error WHAT EXPECTED_TEXT ARGS...: exit 1, stderr has "error:" and EXPECTED_TEXT.
expect_error() {
  local what="$1" text="$2"
  shift 2
  rm -f "$dir/out.safetensors"
  "$embed" "$@" --steps 1 --out "$dir/out.safetensors" >"$dir/stdout" 2>"$dir/stderr"
  local rc=$?
  local msg
  msg="$(cat "$dir/stderr")"
  if [[ $rc -ne 1 ]]; then
    echo "FAIL: $what: exit status $rc (want 1); stderr: $msg" >&2
    status=1
  elif ! grep -q "error:" <<<"$msg" || ! grep -qF -- "$text" <<<"$msg"; then
    echo "FAIL: $what: message lacks '$text': $msg" >&2
    status=1
  elif [[ -e "$dir/out.safetensors" ]]; then
    echo "FAIL: $what: wrote an --out file anyway" >&2
    status=1
  else
    echo "ok    $what: $msg"
  fi
}

expect_error "missing weights" "$dir/nope.safetensors: cannot open" \
  --weights "$dir/nope.safetensors" --feed "$feed"
expect_error "missing feed" "$dir/nope.safetensors: cannot open" \
  --weights "$weights" --feed "$dir/nope.safetensors"
expect_error "3-byte file" "shorter than the 8-byte header length" \
  --weights "$dir/tiny.safetensors" --feed "$feed"
expect_error "empty file" "empty.safetensors: not a safetensors file" \
  --weights "$dir/empty.safetensors" --feed "$feed"
expect_error "truncated header" "truncated" --weights "$dir/cut_header.safetensors" --feed "$feed"
expect_error "truncated data" "file truncated?" --weights "$dir/cut_data.safetensors" --feed "$feed"
expect_error "huge header length" "header length" \
  --weights "$dir/huge_len.safetensors" --feed "$feed"
expect_error "bad json" "bad safetensors header" --weights "$dir/bad_json.safetensors" \
  --feed "$feed"
expect_error "wrong shape" "parameter 'fc1.weight' has the wrong shape" \
  --weights "$dir/bad_shape.safetensors" --feed "$feed"
expect_error "offsets past the data" "tensor 'x' data_offsets [0, 16]" \
  --weights "$dir/bad_offsets.safetensors" --feed "$feed"
expect_error "offsets vs shape" "tensor 'x' (F32 [4]) needs 16 bytes" \
  --weights "$dir/size_mismatch.safetensors" --feed "$feed"
expect_error "extra tensor" "unexpected tensor 'fc9.weight'" \
  --weights "$dir/extra.safetensors" --feed "$feed"
expect_error "weights as feed" "missing input 'image'" --weights "$weights" --feed "$weights"
expect_error "label out of range" "label[0] = -1 is not a class" --weights "$weights" \
  --feed "$dir/bad_label.safetensors"
expect_error "truncated feed" "file truncated?" --weights "$weights" \
  --feed "$dir/cut_data.safetensors"
expect_error "raw of the wrong size" "raw parameters must be" --raw "$dir/short.bin" --feed "$feed"
expect_error "both weight kinds" "exactly one of" --raw "$dir/short.bin" --weights "$weights" \
  --feed "$feed"
expect_error "bad --steps" "--steps: expected an integer" --weights "$weights" --feed "$feed" \
  --steps -4
expect_error "bad --threads" "--threads: expected an integer" --weights "$weights" \
  --feed "$feed" --threads 0
exit $status
