#!/bin/sh
# Files are checked before they cost memory. Each case runs gradc under a
# 1 GiB address-space limit, so reading a bad file whole, or initialising
# gigabytes of parameters before a bad feed is refused, fails the test with
# "out of memory" instead of the expected message.
# Usage: bounded_reads.sh GRADC SMOL_MODEL BIG_PARAMS_MODEL SCRATCH_DIR
set -u
gradc=$1 smol=$2 big=$3 dir=$4
here=$(dirname "$0")
rm -rf "$dir" && mkdir -p "$dir" || exit 2
fail=0
# limited NAME REGEX -- COMMAND...: expect_error.sh under ulimit -v.
limited() {
  name=$1 re=$2
  shift 3
  if (ulimit -v 1048576 && sh "$here/expect_error.sh" 1 "$dir/$name.out" "$re" -- "$@") \
      >"$dir/$name.log" 2>&1; then
    echo "ok   $name: $(tail -n 1 "$dir/$name.log")"
  else
    echo "FAIL $name:" >&2
    cat "$dir/$name.log" >&2
    fail=1
  fi
}

# A feed holding only 'x' (f32[4, 3], zeros): the 8-byte little-endian header
# length (57 = octal 071), the 57-byte header, 48 bytes of data.
{
  printf '\071\000\000\000\000\000\000\000'
  printf '{"x":{"dtype":"F32","shape":[4,3],"data_offsets":[0,48]}}'
  head -c 48 /dev/zero
} >"$dir/x_only.st"
# The same header in a 4 GiB sparse file: refused from its layout before the
# data section is read.
head -c 65 "$dir/x_only.st" >"$dir/sparse.st"
truncate -s 4G "$dir/sparse.st"
limited sparse_feed "sparse\.st: 4294967183 unused bytes after the last tensor's data" -- \
  "$gradc" run "$smol" --feed "$dir/sparse.st" --out "$dir/sparse_feed.out"
# A model file over the 16 MiB limit, and one that is a device.
truncate -s 17M "$dir/huge.json"
limited huge_model "huge\.json: cannot read the model file: it has 17825792 bytes, more than the limit" \
  -- "$gradc" dump "$dir/huge.json" --stage parsed
limited device_model "/dev/zero: cannot read the model file: not a regular file" -- \
  "$gradc" dump /dev/zero --stage parsed
limited device_feed "/dev/zero: cannot read the safetensors file: not a regular file" -- \
  "$gradc" run "$smol" --feed /dev/zero --out "$dir/device_feed.out"
# 2 GB of parameters and a feed without 'target': the feed is refused first.
limited feed_before_params "missing feed tensor 'target'" -- \
  "$gradc" run "$big" --feed "$dir/x_only.st" --out "$dir/feed_before_params.out"
exit $fail
