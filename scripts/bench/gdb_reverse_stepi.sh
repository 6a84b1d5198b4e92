#!/usr/bin/env bash
# gdb `reverse-stepi` round trip through `rewind gdb` (target: median at most 100 ms), with gdb's own `record full` as the baseline.
# Usage: scripts/bench/gdb_reverse_stepi.sh BUILDDIR [--back N] [--runs N]
# Each run starts gdb in batch mode on tests/progs/gdb_prog, stops at compute(), runs
# forward to the end of compute() with `finish` (gdb's record full records from the
# stop at compute), then times N single `reverse-stepi` commands from inside gdb, one
# by one (startup excluded). Printed: the median and the slowest reverse-stepi of
# each side over all runs, and their ratio. glibc is kept off its AVX-512 paths on both
# sides (record full cannot decode them). No pinning, as a user would run them.
set -euo pipefail
usage="usage: scripts/bench/gdb_reverse_stepi.sh BUILDDIR [--back N] [--runs N]"
build=$(cd "${1:?$usage}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
back=40 runs=5
while [ $# -gt 0 ]; do
  case $1 in
    --back) back=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "gdb_reverse_stepi.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
prog=$build/tests/progs/gdb_prog
[ -x "$prog" ] && [ -x "$build/rewind" ] || { echo "gdb_reverse_stepi.sh: build $build first" >&2; exit 1; }
command -v gdb >/dev/null || { echo "gdb_reverse_stepi.sh: gdb is not installed" >&2; exit 1; }
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX2_Usable,-AVX_Usable,-ERMS
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# rstepi.py: $record is "record full" for gdb alone, nothing through rewind.
write_py() {
  cat >"$tmp/rstepi-$1.py" <<PY
import time
gdb.execute("break compute")
gdb.execute("run")
if "$1" == "native":
    gdb.execute("record full")
gdb.execute("finish", to_string=True)
start = int(gdb.parse_and_eval("\$pc"))
out = []
for i in range($back):
    t = time.monotonic()
    gdb.execute("reverse-stepi", to_string=True)
    out.append(time.monotonic() - t)
print("pcs %x %x" % (start, int(gdb.parse_and_eval("\$pc"))))
print("times " + " ".join("%.6f" % x for x in out))
PY
}
write_py native
write_py rewind
# one_run native|rewind: the times of the reverse-stepis, one a line.
one_run() {
  local out
  if [ "$1" = native ]; then
    out=$(timeout 300 gdb -nx -batch -iex 'set debuginfod enabled off' -x "$tmp/rstepi-native.py" \
          --args "$prog" 2>&1 </dev/null)
  else
    out=$(timeout 300 "$build/rewind" gdb -nx -batch -x "$tmp/rstepi-rewind.py" -- "$prog" 2>&1 </dev/null)
  fi
  printf '%s\n' "$out" | grep '^pcs ' >>"$tmp/pcs-$1"
  printf '%s\n' "$out" | sed -n 's/^times //p' | tail -1 | tr ' ' '\n'
}
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.6f\n", m}'; }
echo "# gdb reverse-stepi through rewind vs gdb's record full ($back reverse-stepi after finish, $runs runs)"
conditions
echo "load average at the start: $(cut -d" " -f1-3 /proc/loadavg)"
: >"$tmp/native"; : >"$tmp/rewind"
for ((i = 0; i < runs; i++)); do   # interleaved, so load changes hit both sides
  one_run native >>"$tmp/native"
  one_run rewind >>"$tmp/rewind"
done
for side in native rewind; do
  c=$(grep -c . "$tmp/$side" || true)
  [ "$c" -eq $((back * runs)) ] || { echo "gdb_reverse_stepi.sh: $side: $c of $((back * runs)) times" >&2; exit 1; }
done
# Both sides must have walked the same instructions back.
if [ "$(sort -u "$tmp/pcs-native" | wc -l)" -ne 1 ] || ! cmp -s <(sort -u "$tmp/pcs-native") <(sort -u "$tmp/pcs-rewind"); then
  echo "gdb_reverse_stepi.sh: the two sides ended at different places:" >&2
  sort -u "$tmp/pcs-native" "$tmp/pcs-rewind" >&2
  exit 1
fi
n=$(median <"$tmp/native")
r=$(median <"$tmp/rewind")
nmax=$(sort -n "$tmp/native" | tail -1)
rmax=$(sort -n "$tmp/rewind" | tail -1)
ms() { awk -v t="$1" 'BEGIN { printf "%.1f ms", t * 1000 }'; }
printf "gdb record full:  median %s, slowest %s\n" "$(ms "$n")" "$(ms "$nmax")"
printf "rewind gdb:       median %s, slowest %s (target: median <= 100 ms)\n" "$(ms "$r")" "$(ms "$rmax")"
printf 'ratio rewind/record full (medians): %s\n' "$(ratio "$r" "$n")"
