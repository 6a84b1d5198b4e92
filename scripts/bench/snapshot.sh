#!/usr/bin/env bash
# Snapshot checkpoint/restore latency vs plain fork (10 MiB..1 GiB, 8 threads), and memory held by 100 checkpoints.
# Usage: scripts/bench/snapshot.sh BUILDDIR [--big] [--runs N] [--sizes 10,100,1024] [--no-memory] [--thp] [--no-session]
#   --big adds a 4 GiB debuggee (about a minute more, and 5 GiB of memory).
#   The session part (skipped with --no-session) drives `rewind shell` with default
#   settings through 100 stops of a 1 GiB program dirtying 10 MiB between them, 3 times.
set -euo pipefail
build=${1:?usage: scripts/bench/snapshot.sh BUILDDIR [ARGS...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=$build/tests/bench/bench_snapshot
[ -x "$bin" ] || { echo "snapshot.sh: $bin not built" >&2; exit 1; }
echo "# rewind snapshot benchmark"
conditions
echo "THP defrag: $(grep -o '\[[a-z+]*\]' /sys/kernel/mm/transparent_hugepage/defrag 2>/dev/null || echo '?');" \
     "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo);" \
     "NT_X86_XSTATE: $(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo no AVX-512);" \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
session=1
args=()
for a in "$@"; do
  if [ "$a" = --no-session ]; then session=0; else args+=("$a"); fi
done
"$bin" "${args[@]+"${args[@]}"}"
[ $session = 1 ] || exit 0

# ---- the same memory case through the shell, default settings (record on, budget
# 1 GiB, checkpoint-compact auto): what a user gets ----
prog=$build/tests/bench/bench_session_target
native=$("$prog" 1024 100)
cmds=(-ex 'break stop_here' -ex run)
for _ in $(seq 99); do cmds+=(-ex continue); done
cmds+=(-ex 'info checkpoints' -ex 'restart 50' -ex delete -ex continue)
echo
echo "Through the shell: rewind shell --batch, break stop_here, run, 99 x continue (100 automatic"
echo "checkpoints of a 1 GiB program dirtying 10 MiB between stops), default settings; then"
echo "restart 50 and continue to the end (its checksum must be the native run's: $native)."
echo
echo "| run | checkpoints kept | compacted | Checkpoint memory (info checkpoints) | seconds per stop | end after restart 50 |"
echo "|---|---|---|---|---|---|"
per=()
for run in 1 2 3; do
  t0=$(date +%s%N)
  out=$("$build/rewind" shell --batch "${cmds[@]}" "$prog" 1024 100 2>&1)
  t1=$(date +%s%N)
  kept=$(printf '%s\n' "$out" | grep -cE '^[* ] +[0-9]+ +\(auto\)' || true)
  comp=$(printf '%s\n' "$out" | grep -cE '^[* ] +[0-9]+ +\(auto\).*\(compacted\)' || true)
  mem=$(printf '%s\n' "$out" | grep -oE '^Checkpoint memory: .*' | head -1)
  end=$(printf '%s\n' "$out" | grep -qxF "$native" && echo "same checksum" || echo "DIFFERENT")
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 / 100 }')
  per+=("$s")
  echo "| $run | $kept | $comp | ${mem#Checkpoint memory: } | $s | $end |"
done
echo
echo "median seconds per stop (checkpoint, compaction and measuring included): $(printf '%s\n' "${per[@]}" | sort -n | sed -n 2p)"
