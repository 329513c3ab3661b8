#!/usr/bin/env bash
# A full disk (a 64 KiB tmpfs) and a read-only directory: `gradc run` exits 1 with one clear
# message naming the file and the reason, and leaves no file at all (neither the target nor a
# temporary); an existing file there stays as it was. Needs root for mount: exits 77 (skipped)
# where mounting is not permitted.
# Usage: full_disk.sh GRADC MODEL FEED WORKDIR
set -euo pipefail
gradc="$1" model="$2" feed="$3" work="$4"
mnt="$work/mnt"
cleanup() { umount "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)"
  exit 77
fi

# expect NAME REGEX: the last gradc run failed as expected and left the directory as it was.
expect() {
  local rc="$1" msg="$2" regex="$3"
  if [[ "$rc" -ne 1 ]]; then
    echo "FAIL: $4: exit status $rc, expected 1" >&2
    exit 1
  fi
  if [[ $(printf '%s\n' "$msg" | wc -l) -ne 1 ]] || ! grep -Eq "$regex" <<<"$msg"; then
    echo "FAIL: $4: message '$msg' does not match '$regex'" >&2
    exit 1
  fi
  echo "ok: $4: $msg"
}

# The output of mlp_fashion after one step is about 2 MB: it cannot fit in 64 KiB.
head -c 1000 /dev/urandom >"$mnt/keep.bin"
cp "$mnt/keep.bin" "$work/keep.ref"
rc=0
msg=$("$gradc" run "$model" --feed "$feed" --steps 1 --out "$mnt/out.safetensors" 2>&1) || rc=$?
expect "$rc" "$msg" "out\\.safetensors: cannot write: No space left on device" "full disk"
if [[ $(ls -A "$mnt") != keep.bin ]]; then
  echo "FAIL: full disk: files left behind:" $(ls -A "$mnt") >&2
  exit 1
fi
cmp -s "$mnt/keep.bin" "$work/keep.ref" || { echo "FAIL: another file changed" >&2; exit 1; }

# Overwriting an existing file on a full disk keeps the old file whole.
rc=0
msg=$("$gradc" run "$model" --feed "$feed" --steps 1 --out "$mnt/keep.bin" 2>&1) || rc=$?
expect "$rc" "$msg" "keep\\.bin: cannot write: No space left on device" "full disk, existing file"
cmp -s "$mnt/keep.bin" "$work/keep.ref" || { echo "FAIL: the old file was damaged" >&2; exit 1; }
[[ $(ls -A "$mnt") == keep.bin ]] || { echo "FAIL: temporaries left behind" >&2; exit 1; }

# A read-only directory (root ignores permission bits, so a read-only mount stands for it).
mount -o remount,ro "$mnt"
rc=0
msg=$("$gradc" run "$model" --feed "$feed" --out "$mnt/out.safetensors" 2>&1) || rc=$?
expect "$rc" "$msg" "out\\.safetensors: cannot write: Read-only file system" "read-only directory"
[[ $(ls -A "$mnt") == keep.bin ]] || { echo "FAIL: read-only: files appeared" >&2; exit 1; }
echo "ok"
