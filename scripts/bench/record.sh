#!/usr/bin/env bash
# Recording overhead (CPU-bound, syscall-heavy beside strace, make -j2), replay speed, trace bytes per million syscalls.
# Usage: scripts/bench/record.sh BUILDDIR [--runs N]
# Every ratio is to the native run measured in the same invocation (medians of N
# runs, default 5). The programs are compiled here (cc -O2) from the sources below.
set -euo pipefail
build=${1:?usage: scripts/bench/record.sh BUILDDIR [--runs N]}
shift
runs=5
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    *) echo "record.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rewind=$build/rewind
[ -x "$rewind" ] || { echo "record.sh: $rewind not built" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rewind-bench-record.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME=$tmp/data

# CPU-bound: about a second of arithmetic, a handful of syscalls.
cat >"$tmp/cpu.c" <<'EOF'
#include <stdio.h>
int main(void)
{
	unsigned long x = 1;
	for (unsigned long i = 0; i < 600000000ul; i++)
		x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ul + i;
	printf("%lu\n", x);
	return 0;
}
EOF
# Syscall-heavy: 1M clock_gettime (vDSO natively) and 100k 8-byte reads from a pipe
# a child fills.
cat >"$tmp/sys.c" <<'EOF'
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void)
{
	struct timespec ts;
	unsigned long s = 0;
	for (int i = 0; i < 1000000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s += (unsigned long)ts.tv_nsec;
	}
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		char b[4096] = { 0 };
		for (int i = 0; i < 100000 * 8 / 4096 + 1; i++)
			if (write(p[1], b, sizeof b) < 0)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	char b[8];
	for (int i = 0; i < 100000; i++)
		if (read(p[0], b, sizeof b) != sizeof b)
			return 2;
	waitpid(c, NULL, 0);
	printf("%lu\n", s & 1);
	return 0;
}
EOF
cc -O2 -o "$tmp/cpu" "$tmp/cpu.c"
cc -O2 -o "$tmp/sys" "$tmp/sys.c"
# The floor of any recorder that traps rdtsc (as rewind and rr must: the vDSO's
# clock reads the TSC, so each clock_gettime becomes a real system call): the same
# program with its clock calls made as system calls, run natively; with an argument,
# under a one-comparison seccomp filter that allows everything (the issue's design
# traps calls with seccomp-bpf: a filtered task's every call takes the slow entry).
cat >"$tmp/filter.h" <<'EOF'
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
static int allow_all_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x70000000, 0, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof f / sizeof f[0], f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p);
}
EOF
sed 's/clock_gettime(CLOCK_MONOTONIC, &ts)/syscall(SYS_clock_gettime, CLOCK_MONOTONIC, \&ts)/;
     s/#include <time.h>/#include <time.h>\n#include <sys\/syscall.h>\n#include "filter.h"/;
     s/^int main(void)$/int main(int argc, char **argv)/;
     s/^\tstruct timespec ts;$/\t(void)argv;\n\tif (argc > 1 \&\& allow_all_filter() < 0)\n\t\treturn 3;\n\tstruct timespec ts;/' \
  "$tmp/sys.c" >"$tmp/sysfloor.c"
grep -q 'syscall(SYS_clock_gettime' "$tmp/sysfloor.c" && grep -q 'allow_all_filter()' "$tmp/sysfloor.c" ||
  { echo "record.sh: floor program not made" >&2; exit 1; }
cc -O2 -o "$tmp/sysfloor" "$tmp/sysfloor.c"

# A small C project: 16 files of a few functions each, one program.
proj=$tmp/proj
mkdir -p "$proj"
for i in $(seq 1 16); do
  {
    echo "#include <stdio.h>"
    for j in $(seq 1 20); do
      echo "int f${i}_$j(int x) { int s = 0; for (int k = 0; k < x; k++) s += k * $j ^ (s >> 3); return s + $i; }"
    done
    echo "int g$i(int x) { return f${i}_1(x) + f${i}_20(x); }"
  } >"$proj/m$i.c"
done
{
  echo "#include <stdio.h>"
  for i in $(seq 1 16); do echo "int g$i(int);"; done
  echo "int main(void) { int s = 0;"
  for i in $(seq 1 16); do echo "s += g$i(100);"; done
  echo 'printf("%d\n", s); return 0; }'
} >"$proj/main.c"
cat >"$proj/Makefile" <<'EOF'
OBJS := $(patsubst %.c,%.o,$(wildcard *.c))
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c
	$(CC) -O2 -c -o $@ $<
clean:
	rm -f *.o prog
EOF

# recorded CMD...: record CMD into a fresh directory (its path in $tmp/last).
recorded() {
  local d
  d=$(mktemp -u -d "$tmp/rec.XXXXXX")
  echo "$d" >"$tmp/last"
  timeout 600 "$rewind" record -o "$d" "$@"
}
replayed() { timeout 600 "$rewind" replay --autopilot "$(cat "$tmp/last")"; }
# measure N CMD...: medians of wall time and of CPU time (user + system, all
# processes) over N runs: "WALL CPU". A failing run stops the benchmark.
measure() {
  local n=$1; shift
  local i
  : >"$tmp/times"
  for ((i = 0; i < n; i++)); do
    local TIMEFORMAT='%R %U %S' rc=0
    { time "$@" >/dev/null 2>"$tmp/err" || rc=$?; } 2>"$tmp/t1"
    if [ $rc != 0 ]; then
      echo "record.sh: failed ($rc): $*: $(tail -1 "$tmp/err")" >&2
      echo "failed failed"; return
    fi
    tail -1 "$tmp/t1" >>"$tmp/times"
  done
  local wall cpu
  wall=$(awk '{ print $1 }' "$tmp/times" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f", m}')
  cpu=$(awk '{ print $2 + $3 }' "$tmp/times" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f", m}')
  echo "$wall $cpu"
}
make_clean() { make -s -C "$proj" clean >/dev/null; }
make_native() { make_clean; make -s -C "$proj" -j2; }
make_one_cpu() { make_clean; taskset -c 0 make -s -C "$proj" -j2; }
make_recorded() { make_clean; recorded make -s -C "$proj" -j2; }

echo "# rewind record/replay benchmark"
conditions
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); medians of $runs runs"
echo

# ratio of two figures, n/a when one is missing (a run failed).
ratio() {
  case "$1$2" in *failed*) echo "n/a" ;;
    *) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "inf" }' ;; esac
}
# row LABEL NATIVE RECORDED REPLAYED [STRACE]: one table line ("WALL CPU" pairs).
row() {
  local label=$1 nat=($2) rec=($3) rep=($4) st=(${5:-})
  local strace=""
  [ -n "${5:-}" ] && strace="${st[0]} s, ${st[1]} s ($(ratio "${st[0]}" "${nat[0]}")×, $(ratio "${st[1]}" "${nat[1]}")×)"
  printf '| %s | %s s, %s s | %s s, %s s | **%s×**, %s× | %s s, %s s | %s×, %s× | %s |\n' "$label" \
    "${nat[0]}" "${nat[1]}" "${rec[0]}" "${rec[1]}" "$(ratio "${rec[0]}" "${nat[0]}")" \
    "$(ratio "${rec[1]}" "${nat[1]}")" "${rep[0]}" "${rep[1]}" "$(ratio "${rep[0]}" "${nat[0]}")" \
    "$(ratio "${rep[1]}" "${nat[1]}")" "$strace"
}

cpu_nat=$(measure "$runs" "$tmp/cpu")
cpu_rec=$(measure "$runs" recorded "$tmp/cpu")
cpu_rep=$(measure "$runs" replayed)

sys_nat=$(measure "$runs" "$tmp/sys")
sys_floor=$(measure "$runs" "$tmp/sysfloor")
sys_floor_sc=$(measure "$runs" "$tmp/sysfloor" seccomp)
sys_strace=$(measure "$runs" strace -f -o /dev/null "$tmp/sys")
sys_rec=$(measure "$runs" recorded "$tmp/sys")
sys_dir=$(cat "$tmp/last")
sys_rep=$(measure "$runs" replayed)

make_nat=$(measure "$runs" make_native)
make_one=$(measure "$runs" make_one_cpu)
make_rec=$(measure "$runs" make_recorded)
make_rep=$(measure "$runs" replayed)

# Trace bytes per recorded syscall, from the last syscall-heavy recording.
# (trapped calls are events of their own; the agent's buffered calls are lines under
# their thread's sysbuf event)
"$rewind" dump "$sys_dir" >"$tmp/dump"
ntrap=$(grep -cE '^#[0-9]+ tid [0-9]+ [a-z_0-9]+\(' "$tmp/dump" || true)
nbuf=$(grep -cE '^    call [0-9]+: ' "$tmp/dump" || true)
nsys=$((ntrap + nbuf))
tbytes=$(stat -c %s "$sys_dir/trace")

echo "Each cell: wall-clock median, CPU-time median (user + system of every process,"
echo "rewind included); ratios to native: wall, CPU."
echo
printf '| program | native | recorded | ratio | replayed | ratio | strace -f -o /dev/null |\n'
printf '|---|---|---|---|---|---|---|\n'
row "CPU-bound (6e8 multiply-xor steps)" "$cpu_nat" "$cpu_rec" "$cpu_rep"
row "syscall-heavy (1M clock_gettime, 100k 8-byte pipe reads)" "$sys_nat" "$sys_rec" "$sys_rep" "$sys_strace"
row "make -j2 (17 C files, gcc -O2)" "$make_nat" "$make_rec" "$make_rep"
echo
f=($sys_floor) fs=($sys_floor_sc) n=($sys_nat) m=($make_one) mn=($make_nat)
echo "floor of the syscall-heavy row for a recorder that traps rdtsc (its clock calls as"
echo "real system calls, run natively): ${f[0]} s wall, $(ratio "${f[0]}" "${n[0]}")× native;"
echo "the same under an allow-all seccomp filter: ${fs[0]} s wall, $(ratio "${fs[0]}" "${n[0]}")× native"
echo "floor of the make row for a recorder that runs the tree on one CPU (make -j2 pinned"
echo "to one CPU, natively): ${m[0]} s wall, $(ratio "${m[0]}" "${mn[0]}")× native"
awk -v b="$tbytes" -v n="$nsys" -v t="$ntrap" -v f="$nbuf" 'BEGIN { printf "trace of the syscall-heavy run: %d bytes, %d syscalls (%d trapped, %d logged by the agent): %.1f MB per million syscalls\n", b, n, t, f, (n ? b / n : 0) }'
