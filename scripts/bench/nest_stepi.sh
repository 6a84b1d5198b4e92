#!/usr/bin/env bash
# gdb `stepi` under `rewind run` (ptrace emulated) vs gdb alone (target: at most 2x); checkpoint/restore latency of a gdb session.
# Usage: scripts/bench/nest_stepi.sh BUILDDIR [--steps N] [--runs N] [--mib N]
# stepi: each run starts gdb in batch mode, stops at ready() in tests/progs/nest_big and
# times `stepi N` from inside gdb (startup excluded); medians of the runs and their
# ratio are printed. Sessions: gdb under rewind run with the inferior holding MIB MiB
# touched checkpoints itself (`rewind session checkpoint`, timed from gdb) and is
# restored three times (timed from the request to the restored gdb returning).
set -euo pipefail
build=$(cd "${1:?usage: scripts/bench/nest_stepi.sh BUILDDIR [--steps N] [--runs N] [--mib N]}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
steps=10000 runs=5 mib=100
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    *) echo "nest_stepi.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
prog=$build/tests/progs/nest_big
[ -x "$prog" ] && [ -x "$build/rewind" ] || { echo "nest_stepi.sh: build $build first" >&2; exit 1; }
command -v gdb >/dev/null || { echo "nest_stepi.sh: gdb is not installed" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.6f\n", m}'; }
us() { awk -v t="$1" -v s="$2" 'BEGIN { printf "%.0f", t / s * 1e6 }'; }
ms() { awk -v t="$1" 'BEGIN { printf "%.1f", t * 1e3 }'; }

cat >"$tmp/stepi.py" <<PY
import time
gdb.execute("break ready")
gdb.execute("run")
t = time.monotonic()
gdb.execute("stepi $steps", to_string=True)
print("elapsed %.6f" % (time.monotonic() - t))
PY
one_stepi() {
  local out
  if [ "$1" = native ]; then
    out=$(timeout 600 gdb -nx -batch -x "$tmp/stepi.py" --args "$prog" 1 2>&1 </dev/null)
  else
    out=$(timeout 600 "$build/rewind" run -q -- gdb -nx -batch -x "$tmp/stepi.py" --args "$prog" 1 2>&1 </dev/null)
  fi
  printf '%s\n' "$out" | sed -n 's/^elapsed \([0-9.]*\)$/\1/p' | tail -1
}

echo "# gdb stepi under rewind run vs gdb alone ($steps steps, median of $runs runs)"
conditions
nat=() rw=()
for ((i = 0; i < runs; i++)); do   # interleaved, so load changes hit both sides
  nat+=("$(one_stepi native)")
  rw+=("$(one_stepi rewind)")
done
n=$(printf '%s\n' "${nat[@]}" | median)
r=$(printf '%s\n' "${rw[@]}" | median)
printf 'gdb alone:          %s s  (%s us per stepi)\n' "$n" "$(us "$n" "$steps")"
printf 'gdb in rewind run:  %s s  (%s us per stepi)\n' "$r" "$(us "$r" "$steps")"
printf 'ratio rewind/alone: %s (target <= 2)\n' "$(ratio "$r" "$n")"

# A session checkpoints itself once and is restored three times; a file outside the
# session carries the restore's start time and the round across restores.
cat >"$tmp/session.py" <<PY
import os, time
gdb.execute("source $src/gdbplug/rewind.py")
gdb.execute("break ready")
gdb.execute("run")
t = time.monotonic()
gdb.execute("rewind session checkpoint", to_string=True)
now = time.monotonic()
state = "$tmp/state"
if int(gdb.convenience_variable("_rewind_restored")) == 0:
    print("checkpoint %.6f" % (now - t))
    n = 0
else:
    n, t0 = open(state).read().split()
    n = int(n)
    print("restore %.6f" % (now - float(t0)))
if n < 3:
    open(state, "w").write("%d %.9f" % (n + 1, time.monotonic()))
    gdb.execute("rewind session restore 1")
gdb.execute("kill")
PY
ck=() rs=()
for ((i = 0; i < runs; i++)); do
  out=$(timeout 600 "$build/rewind" run -q -- gdb -nx -batch -x "$tmp/session.py" --args "$prog" "$mib" 2>&1 </dev/null)
  ck+=("$(printf '%s\n' "$out" | sed -n 's/^checkpoint \([0-9.]*\)$/\1/p')")
  while read -r v; do rs+=("$v"); done < <(printf '%s\n' "$out" | sed -n 's/^restore \([0-9.]*\)$/\1/p')
  rm -f "$tmp/state"
done
c=$(printf '%s\n' "${ck[@]}" | median)
r=$(printf '%s\n' "${rs[@]}" | median)
echo "# checkpoint and restore of a gdb session, inferior with $mib MiB touched (medians: $runs checkpoints, ${#rs[@]} restores)"
printf 'checkpoint (gdb + inferior): %s ms\n' "$(ms "$c")"
printf 'restore (until the restored gdb runs on): %s ms\n' "$(ms "$r")"
