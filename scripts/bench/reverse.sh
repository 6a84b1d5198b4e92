#!/usr/bin/env bash
# Reverse-command latency at the end of long runs in rewind's shell (targets: median <= 50 ms for reverse-stepi/next, <= 1 s for a reverse-continue across 1 s), and gdb's record full on the same program.
# Usage: scripts/bench/reverse.sh BUILDDIR [--runs N] [--seconds S] [--insns N] [--gdb-runs N] [--no-hot]
#
# Program: tests/progs/rev_bench (S rounds of about 1 s of CPU each; tick() at the
# start of every round, done() after the last). Each run: `break done`, `run`,
# `finish`, then 5 reverse-stepi and 3 reverse-next, each timed, then `break tick`
# and a timed reverse-continue, which must stop at the last round's tick (about 1 s
# of execution back). Modes: cpu (arithmetic loop), sys (a getppid() per iteration,
# round sized so that it takes 1 s under recording), threads (4 threads sharing the
# rounds' CPU time). Commands are timed by the arrival of `echo` markers on the
# shell's output (flushed after every command; bash's $EPOCHREALTIME).
# (A session is given 300 s.) "hot": the same cpu run stopped inside the hot loop (done() called from it), one
# run, a 120 s limit: reverse-stepi and reverse-next there.
# gdb part: the static build, cpu mode, one round sized to about N instructions (as
# gdb counts them): time to record them with `record full` (from main to done) and
# to reverse-continue back across them, and rewind's times for the same.
set -euo pipefail
usage="usage: scripts/bench/reverse.sh BUILDDIR [--runs N] [--seconds S] [--insns N] [--gdb-runs N] [--no-hot]"
build=$(cd "${1:?$usage}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
runs=5 seconds=10 insns=10000000 gdb_runs=3 hot=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --insns) insns=$2; shift 2 ;;
    --gdb-runs) gdb_runs=$2; shift 2 ;;
    --no-hot) hot=0; shift ;;
    *) echo "reverse.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
prog=$build/tests/progs/rev_bench
sprog=$build/tests/progs/rev_bench_static
rw=$build/rewind
[ -x "$prog" ] && [ -x "$sprog" ] && [ -x "$rw" ] || { echo "reverse.sh: build $build first" >&2; exit 1; }
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX2_Usable,-AVX_Usable,-ERMS
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME=$tmp/data

stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
median() { sort -g | awk '{a[NR]=$1} END {if (!NR) {print "nan"; exit} m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.6f\n", m}'; }
ms() { awk -v t="$1" 'BEGIN { if (t == "nan") print "n/a"; else printf "%.1f ms", t * 1000 }'; }
cpu_of() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
wall_of() { local t0 t1; t0=$EPOCHREALTIME; "$@" >/dev/null 2>&1; t1=$EPOCHREALTIME; awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}'; }

# ---- calibration: ITERS for a round of 1 s ----
calib_cpu() {   # MODE: iterations per 1 s of CPU, natively
  local n=20000000 c
  c=$(cpu_of "$prog" "$1" 1 $n)
  awk -v n=$n -v c="$c" 'BEGIN { printf "%d\n", (c > 0 ? n / c : n) }'
}
calib_sys() {   # iterations per 1 s under rewind's recording (3 rounds minus 1)
  local n=20000 a b
  a=$(wall_of timeout 300 "$rw" shell --batch -ex run -- "$prog" sys 1 $n)
  b=$(wall_of timeout 300 "$rw" shell --batch -ex run -- "$prog" sys 3 $n)
  awk -v n=$n -v a="$a" -v b="$b" 'BEGIN { d = (b - a) / 2; printf "%d\n", (d > 0 ? n / d : n) }'
}

# one_run MODE ROUNDS ITERS [hot]: the times of the commands, "NAME SECONDS" a line,
# and "rc-ok" when reverse-continue stopped at the last round's tick.
one_run() {
  local mode=$1 rounds=$2 iters=$3 h=${4:-} a=() out
  a=(-ex 'break done' -ex run -ex finish -ex delete)
  local i
  for i in 1 2 3 4 5; do a+=(-ex 'echo @M rsi\n' -ex reverse-stepi); done
  local nrn=3; [ -n "$h" ] && nrn=2
  for ((i = 0; i < nrn; i++)); do a+=(-ex 'echo @M rn\n' -ex reverse-next); done
  if [ -z "$h" ]; then a+=(-ex 'break tick' -ex 'echo @M rc\n' -ex reverse-continue); fi
  a+=(-ex 'echo @M end\n')
  out=$(timeout -k 5 "$([ -n "$h" ] && echo 120 || echo 300)" "$rw" shell --batch "${a[@]}" -- \
        "$prog" "$mode" "$rounds" "$iters" $h 2>&1 </dev/null | stamp || true)
  printf '%s\n' "$out" >>"$tmp/log-$mode$h"
  printf '%s\n' "$out" | awk '$2 == "@M" { if (name != "") print name, $1 - t; name = $3; t = $1 }'
  printf '%s\n' "$out" | grep -qE "Breakpoint [0-9]+, tick \(r=$rounds\)" && echo rc-ok || true
}

echo "# reverse commands at the end of ${seconds} s runs (rewind shell, $runs runs per mode)"
conditions
echo "load average at the start: $(cut -d" " -f1-3 /proc/loadavg)"
it_cpu=$(calib_cpu cpu)
it_sys=$(calib_sys)
it_thr=$(( it_cpu / 4 ))
echo "rounds of about 1 s: cpu $it_cpu iterations, sys $it_sys (under recording), threads $it_thr per thread (4 threads)"
for mode in cpu sys threads; do
  case $mode in cpu) it=$it_cpu ;; sys) it=$it_sys ;; threads) it=$it_thr ;; esac
  : >"$tmp/$mode"
  for ((r = 0; r < runs; r++)); do one_run "$mode" "$seconds" "$it" >>"$tmp/$mode"; done
done
printf '\n%-8s %-26s %-26s %-28s\n' mode "reverse-stepi median/max" "reverse-next median/max" "reverse-continue median/max"
for mode in cpu sys threads; do
  row=$(printf '%-8s' "$mode")
  for c in rsi rn rc; do
    m=$(awk -v c=$c '$1 == c {print $2}' "$tmp/$mode" | median)
    x=$(awk -v c=$c '$1 == c {print $2}' "$tmp/$mode" | sort -g | tail -1)
    n=$(awk -v c=$c '$1 == c' "$tmp/$mode" | wc -l)
    row+=$(printf ' %-26s' "$(ms "$m") / $(ms "${x:-nan}") (n=$n)")
  done
  echo "$row"
  okc=$(grep -c '^rc-ok' "$tmp/$mode" || true)
  [ "$okc" -eq "$runs" ] || { echo "  $mode: reverse-continue reached the last tick in $okc of $runs runs; log:"; grep -vE '^[0-9.]+ \[' "$tmp/log-$mode" | tail -15 | sed 's/^/    /'; }
done
echo "targets: reverse-stepi and reverse-next median <= 50 ms; reverse-continue across 1 s <= 1 s"

if [ "$hot" = 1 ]; then
  echo
  echo "# stopped inside the hot loop (cpu, one run, 120 s limit for the whole session)"
  one_run cpu "$seconds" "$it_cpu" hot >"$tmp/hot"
  awk '{printf "  %s %.1f ms\n", $1, $2 * 1000}' "$tmp/hot"
  done_n=$(grep -cE '^(rsi|rn) ' "$tmp/hot" || true)
  [ "$done_n" -eq 7 ] || echo "  only $done_n of 7 commands finished within the limit"
fi

echo
echo "# gdb record full vs rewind: record about $insns instructions and reverse-continue across them"
command -v gdb >/dev/null || { echo "gdb is not installed: skipped"; exit 0; }
# instructions per iteration, as gdb's record counts them
cat >"$tmp/rec.py" <<'PY'
import time, re, gdb
gdb.execute("break main"); gdb.execute("run")
gdb.execute("record full"); gdb.execute("set record full insn-number-max unlimited")
gdb.execute("break done")
t = time.monotonic(); gdb.execute("continue", to_string=True); t1 = time.monotonic() - t
n = re.search(r"Log contains (\d+) instructions", gdb.execute("info record", to_string=True)).group(1)
t = time.monotonic(); out = gdb.execute("reverse-continue", to_string=True); t2 = time.monotonic() - t
print("RESULT %s %.6f %.6f %s" % (n, t1, t2, "main" if "main" in out else "elsewhere"))
PY
gdbrun() { timeout 7200 gdb -nx -batch -iex 'set debuginfod enabled off' -x "$tmp/rec.py" --args "$sprog" cpu 1 "$1" 2>&1 </dev/null | grep '^RESULT' || echo "RESULT 0 nan nan failed"; }
small=$(gdbrun 20000)
per=$(awk '{printf "%.3f\n", $2 / 20000}' <<<"$small")
iters=$(awk -v n="$insns" -v p="$per" 'BEGIN { printf "%d\n", n / p }')
echo "gdb counts $per instructions per iteration: $iters iterations"
rwrun() {
  "$rw" shell --batch -ex 'break main' -ex run -ex 'break done' -ex 'echo @M rec\n' -ex continue \
    -ex 'echo @M rc\n' -ex reverse-continue -ex 'echo @M end\n' -- "$sprog" cpu 1 "$1" 2>&1 </dev/null | stamp |
    awk '$2 == "@M" { if (name != "") printf "%s %s ", name, $1 - t; name = $3; t = $1 } /Breakpoint 1, main/ { m = 1 } END { print (m ? "main" : "elsewhere") }'
}
: >"$tmp/g"; : >"$tmp/w"
for ((r = 0; r < gdb_runs; r++)); do
  gdbrun "$iters" >>"$tmp/g"
  rwrun "$iters" >>"$tmp/w"
done
gn=$(awk '{print $2}' "$tmp/g" | median)
grec=$(awk '{print $3}' "$tmp/g" | median)
grc=$(awk '{print $4}' "$tmp/g" | median)
wrec=$(awk '{print $2}' "$tmp/w" | median)
wrc=$(awk '{print $4}' "$tmp/w" | median)
echo "gdb record full: $gn instructions; record $(ms "$grec"), reverse-continue $(ms "$grc") ($(awk '{print $5}' "$tmp/g" | sort | uniq -c | tr -s ' ' | tr '\n' ' '))"
echo "rewind:          record $(ms "$wrec"), reverse-continue $(ms "$wrc") ($(awk '{print $5}' "$tmp/w" | sort | uniq -c | tr -s ' ' | tr '\n' ' '))"
echo "ratio gdb/rewind: record $(ratio "$grec" "$wrec"), reverse-continue $(ratio "$grc" "$wrc")"
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
