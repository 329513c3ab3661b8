#!/usr/bin/env bash
# aot.<model>.symbols: `gradc compile` of MODEL gives an object whose undefined symbols all come
# from a tight libc/libm/pthreads allowlist, which exports only the four entry points and
# <model>_set_threads, and whose header
# compiles warning-free as C99 and C++ and links into a C program with -lm -lpthread only. Usage:
#   check_symbols.sh GRADC MODEL.json OUTDIR CC CXX
set -euo pipefail

if [[ $# -ne 5 ]]; then
  echo "usage: $0 GRADC MODEL.json OUTDIR CC CXX" >&2
  exit 2
fi
gradc="$1" model="$2" outdir="$3" cc="$4" cxx="$5"

# Everything generated code may call. Extend only with functions of libc, libm or pthreads.
# The thread pool (rtlib/pool.c): pthreads, the CPU count (sched_getaffinity, sysconf) and
# the clock (clock_gettime: how long a worker spins before it sleeps).
allowed="clock_gettime expf logf memcpy memmove memset pthread_cond_broadcast pthread_cond_signal
 pthread_cond_wait pthread_create pthread_join pthread_mutex_lock pthread_mutex_trylock
 pthread_mutex_unlock sched_getaffinity __sched_cpucount sysconf"

name="$(basename "$model" .json)"
dir="$outdir/$name.symbols"
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

echo "+ gradc compile $model"
"$gradc" compile "$model" -o "$name.o" --header "$name.h"

status=0
undefined="$(nm -u "$name.o" | awk '{print $NF}' | sort)"
echo "undefined symbols: $(echo $undefined)"
for sym in $undefined; do
  if ! grep -qw -- "$sym" <<<"$allowed"; then
    echo "FAIL: $name.o needs '$sym', which is not in the libc/libm allowlist ($allowed)" >&2
    status=1
  fi
done

exported="$(nm -g --defined-only "$name.o" | awk '{print $NF}' | sort | tr '\n' ' ')"
want="$(printf '%s\n' "${name}_backward" "${name}_forward" "${name}_optimizer_step" \
  "${name}_train_step" "${name}_set_threads" | sort | tr '\n' ' ')"
if [[ "$exported" != "$want" ]]; then
  echo "FAIL: $name.o exports '$exported', expected exactly '$want'" >&2
  status=1
fi

# A translation unit that includes the header twice (include guard), reads its tables and takes
# every entry point, so that linking it pulls in the whole object.
upper="$(tr '[:lower:]' '[:upper:]' <<<"$name")"
cat >use_header.c <<SRC
#include "$name.h"
#include "$name.h"
#include <stdio.h>

int main(void) {
  void (*volatile entry[5])(void) = {
      (void (*)(void))${name}_forward, (void (*)(void))${name}_backward,
      (void (*)(void))${name}_optimizer_step, (void (*)(void))${name}_train_step,
      (void (*)(void))${name}_set_threads};
  printf("%s: %d params, %ld param bytes, first '%s', lr %g, entry %d\n", "$name",
         ${upper}_NUM_PARAMS, (long)${upper}_PARAMS_BYTES, ${name}_params[0].name,
         (double)${upper}_DEFAULT_LR, entry[0] != 0);
  return ${name}_state[${upper}_NUM_STATE].name != 0;
}
SRC
cp use_header.c use_header.cpp
echo "#include \"$name.h\"" >only_header.c
cp only_header.c only_header.cpp

run() {
  echo "+ $*"
  "$@" || { echo "FAIL: $*" >&2; status=1; }
}
run "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -c only_header.c -o only_header_c.o
run "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -c use_header.c -o use_header_c.o
run "$cxx" -Wall -Wextra -Werror -pedantic -c only_header.cpp -o only_header_cxx.o
run "$cxx" -Wall -Wextra -Werror -pedantic -c use_header.cpp -o use_header_cxx.o
# The C compiler driver links libc only; anything else the object needed would fail here.
run "$cc" use_header_c.o "$name.o" -lm -lpthread -o use_header
if [[ -x use_header ]]; then
  run ./use_header
fi

if [[ $status -eq 0 ]]; then
  echo "PASS: $name.o links against libc/libm/pthreads only; header is clean C99 and C++"
fi
exit $status
