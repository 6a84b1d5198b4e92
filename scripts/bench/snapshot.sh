#!/usr/bin/env bash
# Snapshot checkpoint/restore latency vs plain fork (10 MiB..1 GiB, 8 threads), and memory held by 100 checkpoints.
# Usage: scripts/bench/snapshot.sh BUILDDIR [--big] [--runs N] [--sizes 10,100,1024] [--no-memory] [--thp]
#   --big adds a 4 GiB debuggee (about a minute more, and 5 GiB of memory).
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
"$bin" "$@"
