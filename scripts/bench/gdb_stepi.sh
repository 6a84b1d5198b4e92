#!/usr/bin/env bash
# gdb `stepi` round trip through `rewind gdb` vs gdb running the same program natively (target: at most 2x).
# Usage: scripts/bench/gdb_stepi.sh BUILDDIR [--steps N] [--runs N]
# Each run starts gdb in batch mode, stops at compute() in tests/progs/gdb_prog, and
# times `stepi N` from inside gdb (startup excluded); the medians of the runs and their
# ratio are printed. Both sides run the way a user would start them (rewind gdb pins
# gdb, its server and the program to one CPU itself); gdb alone pinned to one CPU is
# printed for reference.
set -euo pipefail
build=$(cd "${1:?usage: scripts/bench/gdb_stepi.sh BUILDDIR [--steps N] [--runs N]}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
steps=2000 runs=7
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "gdb_stepi.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
prog=$build/tests/progs/gdb_prog
[ -x "$prog" ] && [ -x "$build/rewind" ] || { echo "gdb_stepi.sh: build $build first" >&2; exit 1; }
command -v gdb >/dev/null || { echo "gdb_stepi.sh: gdb is not installed" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/stepi.py" <<PY
import time
gdb.execute("break compute")
gdb.execute("run")
t = time.monotonic()
gdb.execute("stepi $steps", to_string=True)
print("elapsed %.6f" % (time.monotonic() - t))
PY
# one_run native|rewind: seconds for the stepi command.
one_run() {
  local out
  if [ "$1" = native ]; then
    out=$(timeout 300 gdb -nx -batch -iex 'set debuginfod enabled off' -x "$tmp/stepi.py" --args "$prog" 2>&1 </dev/null)
  elif [ "$1" = native1 ]; then   # reference: gdb and the program on one CPU, as rewind gdb runs
    out=$(timeout 300 taskset -c 0 gdb -nx -batch -iex 'set debuginfod enabled off' -x "$tmp/stepi.py" --args "$prog" 2>&1 </dev/null)
  else
    out=$(timeout 300 "$build/rewind" gdb -nx -batch -x "$tmp/stepi.py" -- "$prog" 2>&1 </dev/null)
  fi
  printf '%s\n' "$out" | sed -n 's/.*elapsed \([0-9.]*\).*/\1/p' | tail -1
}
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.6f\n", m}'; }
echo "# gdb stepi through rewind vs native gdb ($steps steps, median of $runs runs)"
conditions
echo "load average at the start: $(cut -d" " -f1-3 /proc/loadavg)"
nat=() rw=() one=()
for ((i = 0; i < runs; i++)); do   # interleaved, so load changes hit both sides
  nat+=("$(one_run native)")
  rw+=("$(one_run rewind)")
  one+=("$(one_run native1)")
done
n=$(printf '%s\n' "${nat[@]}" | median)
r=$(printf '%s\n' "${rw[@]}" | median)
o=$(printf '%s\n' "${one[@]}" | median)
echo "native runs: ${nat[*]}"
echo "rewind runs: ${rw[*]}"
printf 'native gdb:  %s s  (%s us per stepi)\n' "$n" "$(awk -v t="$n" -v s="$steps" 'BEGIN { printf "%.0f", t / s * 1e6 }')"
printf 'rewind gdb:  %s s  (%s us per stepi)\n' "$r" "$(awk -v t="$r" -v s="$steps" 'BEGIN { printf "%.0f", t / s * 1e6 }')"
printf 'ratio rewind/native: %s (target <= 2)\n' "$(ratio "$r" "$n")"
printf 'reference, gdb alone pinned to one CPU (taskset -c 0): %s s; rewind/that: %s\n' "$o" "$(ratio "$r" "$o")"
