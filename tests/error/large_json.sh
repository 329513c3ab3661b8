#!/bin/sh
# Writes a large JSON input of many small objects (a model file of 6 MB, or a
# safetensors header of 150,000 empty tensors) and checks gradc rejects it
# cleanly. Usage: large_json.sh model|header GRADC OUT_DIR SMOL_MODEL
set -eu
kind=$1 gradc=$2 dir=$3 smol=$4
here=$(dirname "$0")
mkdir -p "$dir"
if [ "$kind" = model ]; then
  awk 'BEGIN { printf "{\"format\": \"gradc.model/1\", \"junk\": [{}";
               for (i = 0; i < 1500000; i++) printf ", {}"; print "]}" }' >"$dir/large.json"
  exec sh "$here/expect_error.sh" 1 "$dir/large.out" 'large\.json: /junk: unknown key' \
    -- "$gradc" dump "$dir/large.json"
fi
# The header: 8-byte little-endian length, then the JSON text (its length is
# kept a multiple of 256 so that the length bytes are easy to print).
awk 'BEGIN { printf "{\"t0\": {}"; for (i = 1; i < 150000; i++) printf ", \"t%d\": {}", i;
             printf "}" }' >"$dir/large_header.json"
len=$(wc -c <"$dir/large_header.json")
pad=$(( (256 - len % 256) % 256 ))
len=$((len + pad))
printf "$(printf '\\%03o\\%03o\\%03o\\%03o\\000\\000\\000\\000' $((len & 255)) $((len >> 8 & 255)) \
  $((len >> 16 & 255)) $((len >> 24 & 255)))" >"$dir/large_header.safetensors"
cat "$dir/large_header.json" >>"$dir/large_header.safetensors"
awk -v n="$pad" 'BEGIN { for (i = 0; i < n; i++) printf " " }' >>"$dir/large_header.safetensors"
exec sh "$here/expect_error.sh" 1 "$dir/large.out" \
  "large_header\\.safetensors: tensor 't0': entry has no 'dtype'" \
  -- "$gradc" run "$smol" --feed "$dir/large_header.safetensors" --out "$dir/large.out"
