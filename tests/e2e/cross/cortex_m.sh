#!/usr/bin/env bash
# cross.thumbv7em.<model>: the model's train step for Cortex-M4F (thumbv7em-none-eabihf): the
# object needs only memcpy/memset (or their ARM EABI forms), expf and logf; a driver written from
# the header links with arm-none-eabi-gcc --specs=nosys.specs into an ELF without any pthread
# symbol; prints the ELF's sizes and the model's flash and RAM (the ELF less an empty program's).
# With --max-flash F --max-ram R (bytes), fails when the model takes more. Usage:
#   cortex_m.sh GRADC MODEL.json OUTDIR [--max-flash F --max-ram R] [--dim NAME=V]...
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 GRADC MODEL.json OUTDIR [--max-flash F --max-ram R] [--dim NAME=V]..." >&2
  exit 2
fi
gradc="$1" model="$2" outdir="$3"
shift 3
max_flash="" max_ram=""
if [[ "${1:-}" == --max-flash ]]; then
  max_flash="$2" max_ram="$4"
  shift 4
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"
require_tools arm-none-eabi-gcc arm-none-eabi-g++ arm-none-eabi-nm arm-none-eabi-size python3

name="$(basename "$model" .json)"
dir="$outdir/$name.thumbv7em"
rm -rf "$dir"
mkdir -p "$dir"
echo "+ gradc compile $name --triple thumbv7em-none-eabihf $*"
"$gradc" compile "$model" --triple thumbv7em-none-eabihf "$@" -o "$dir/$name.o" \
  --header "$dir/$name.h"

status=0
allowed="memcpy memmove memset expf logf"
undefined="$(arm-none-eabi-nm -u "$dir/$name.o" | awk '{print $NF}' | sort)"
echo "undefined symbols: $(echo $undefined)"
for sym in $undefined; do
  # The ARM EABI names of memcpy and memset (__aeabi_memclr4 is memset to zero).
  [[ "$sym" =~ ^__aeabi_mem(cpy|move|set|clr)[48]?$ ]] && continue
  grep -qw -- "$sym" <<<"$allowed" ||
    { echo "FAIL: $name.o needs '$sym' (allowed: $allowed)" >&2; status=1; }
done

mcu=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
python3 "$here/make_driver.py" "$dir/$name.h" >"$dir/driver.c"
echo 'int main(void) { return 0; }' >"$dir/empty.c"
cflags=("${mcu[@]}" -std=c99 -pedantic -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror)
link=("${mcu[@]}" --specs=nosys.specs -Wl,--gc-sections -Wl,--no-warn-rwx-segments)
# The header is pedantic C99 (the driver includes it) and C++ for the target.
echo "+ arm-none-eabi-g++ -fsyntax-only $name.h"
arm-none-eabi-g++ "${mcu[@]}" -x c++ -Wall -Wextra -Werror -pedantic -fsyntax-only "$dir/$name.h"
echo "+ arm-none-eabi-gcc --specs=nosys.specs driver.c $name.o"
arm-none-eabi-gcc "${cflags[@]}" -DGRADC_BARE_METAL -I"$dir" -c "$dir/driver.c" -o "$dir/driver.o"
# The newlib start files predate the GNU-stack note: the linker's warning about them is noise.
arm-none-eabi-gcc "${link[@]}" "$dir/driver.o" "$dir/$name.o" -lm -o "$dir/$name.elf" 2>"$dir/ld.txt" ||
  { cat "$dir/ld.txt" >&2; exit 1; }
arm-none-eabi-gcc "${cflags[@]}" "${link[@]}" "$dir/empty.c" -o "$dir/empty.elf" 2>/dev/null

if arm-none-eabi-nm "$dir/$name.elf" | grep -i pthread; then
  echo "FAIL: the ELF has pthread symbols" >&2
  status=1
fi
arm-none-eabi-size "$dir/$name.elf" "$dir/empty.elf"
read -r text data bss _ < <(arm-none-eabi-size "$dir/$name.elf" | tail -1)
read -r etext edata ebss _ < <(arm-none-eabi-size "$dir/empty.elf" | tail -1)
flash=$((text + data - etext - edata)) ram=$((data + bss - edata - ebss))
code="$(arm-none-eabi-nm -S "$dir/$name.elf" | awk -v m="$name" '$4 ~ "^"m"_" {print $2}' |
  while read -r s; do echo $((16#$s)); done | paste -sd+ | bc)"
echo "$name train step on Cortex-M4F: flash $flash bytes (gradc's code $code, the rest the" \
  "driver, expf/logf and memset), RAM $ram bytes (header: ${name^^}_TRAIN_STEP_RAM_BYTES" \
  "$(awk -v m="${name^^}_TRAIN_STEP_RAM_BYTES" '$2 == m {print $3}' "$dir/$name.h"))"
if [[ -n "$max_flash" ]] && ((flash > max_flash || ram > max_ram)); then
  echo "FAIL: more than $max_flash bytes of flash or $max_ram of RAM" >&2
  status=1
fi
[[ $status -eq 0 ]] && echo "PASS: $name links for Cortex-M4F with newlib (nosys)"
exit $status
