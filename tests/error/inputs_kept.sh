#!/bin/sh
# An output path that names one of the command's inputs (directly, through
# another spelling, a hard link or a symbolic link) must be refused before any
# work, with one message, and the input must be left byte for byte as it was.
# Usage: inputs_kept.sh GRADC MODEL FEED WEIGHTS SCRATCH_DIR
set -u
gradc=$1 model=$2 feed=$3 weights=$4 dir=$5
here=$(dirname "$0")
rm -rf "$dir" && mkdir -p "$dir/sub" || exit 2
cp "$model" "$dir/m.json" && cp "$feed" "$dir/feed.st" && cp "$weights" "$dir/w.st" || exit 2
cp "$dir/m.json" "$dir/m.orig" && cp "$dir/feed.st" "$dir/feed.orig" && cp "$dir/w.st" "$dir/w.orig"
ln "$dir/feed.st" "$dir/feed.hardlink"
ln -s "$dir/w.st" "$dir/w.symlink"
fail=0
run="$gradc run $dir/m.json --feed $dir/feed.st --weights $dir/w.st"

# check NAME REGEX -- COMMAND...: exit 1, one line matching REGEX, inputs intact.
check() {
  name=$1 re=$2
  shift 3
  "$@" >/dev/null 2>"$dir/stderr"
  status=$?
  problem=""
  [ "$status" -eq 1 ] || problem="exit status $status, expected 1"
  grep -Eq -- "$re" "$dir/stderr" || problem="$problem; stderr does not match /$re/"
  [ "$(wc -l <"$dir/stderr")" -eq 1 ] || problem="$problem; expected one line on stderr"
  for f in m feed w; do
    ext=st
    [ $f = m ] && ext=json
    cmp -s "$dir/$f.$ext" "$dir/$f.orig" || problem="$problem; $f.$ext was changed"
  done
  if ls "$dir"/*.tmp.* "$dir"/*.pending >/dev/null 2>&1; then
    problem="$problem; a temporary file was left"
  fi
  if [ -n "$problem" ]; then
    echo "FAIL $name: $problem" >&2
    cat "$dir/stderr" >&2
    fail=1
  else
    echo "ok   $name: $(cat "$dir/stderr")"
  fi
}

check run_out_is_feed "--out '.*feed\.st' is the same file as --feed" -- $run --out "$dir/feed.st"
check run_out_is_weights "--out .* is the same file as --weights" -- $run --out "$dir/w.st"
check run_out_is_model "--out .* is the same file as the model" -- $run --out "$dir/m.json"
check run_out_other_spelling "is the same file as --feed" -- $run --out "$dir/sub/../feed.st"
check run_out_hard_link "is the same file as --feed" -- $run --out "$dir/feed.hardlink"
check run_out_symlink "is the same file as --weights" -- $run --out "$dir/w.symlink"
check run_out_empty "gradc run: option '--out' needs a value, got an empty string" -- \
  $run --out ""
check run_out_directory "--out '.*sub' is a directory" -- $run --out "$dir/sub"
check compile_o_is_model "-o .* is the same file as the model" -- \
  "$gradc" compile "$dir/m.json" -o "$dir/m.json"
check compile_header_is_model "--header .* is the same file as the model" -- \
  "$gradc" compile "$dir/m.json" -o "$dir/m.o" --header "$dir/sub/../m.json"
check compile_same_new_file "-o and --header name the same file" -- \
  "$gradc" compile "$dir/m.json" -o "$dir/new.o" --header "$dir/./new.o"
[ -e "$dir/new.o" ] && { echo "FAIL compile_same_new_file: new.o was written" >&2; fail=1; }
[ -e "$dir/m.o" ] && { echo "FAIL compile_header_is_model: m.o was written" >&2; fail=1; }
exit $fail
