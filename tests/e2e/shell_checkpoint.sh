#!/usr/bin/env bash
# What a restore brings back, through the shell: each tests/progs/snap_*.c program is
# stopped at its trap 1, checkpointed ("checkpoint c1"), changed (by the live run and by
# the user), restored ("restart c1") and run to its end. The program prints what it
# found after trap 1, so its output after "Switching to checkpoint" is the check, with
# print/info at the restored stop (the shell's own notices, such as "[LWP N exited]",
# may land in the middle of a program's line: patterns are not anchored at the end).
# Recording is off: this is about the snapshots
# themselves (a restore then runs the program live; with recording on it replays).
. "$(dirname "$0")/lib.sh"

# after_restore OUTPUT: the part of OUTPUT after the (last) restore.
after_restore() { printf '%s\n' "$1" | sed -n '/^Switching to checkpoint/,$p'; }
# before_restore OUTPUT: the part before the first restore.
before_restore() { printf '%s\n' "$1" | sed '/^Switching to checkpoint/,$d'; }
# ck NAME PROG [ARGS...] -- runs the usual cycle with RUN_PRE (before run), AT_CKPT
# (commands after the checkpoint), AT_LIVE (at the live run's trap 2) and AT_REST (after
# the restore) as arrays of -ex words.
RUN_PRE=() AT_CKPT=() AT_LIVE=() AT_REST=()
ck() {
  rw_shell -ex 'set record off' "${RUN_PRE[@]}" -ex run -ex 'checkpoint c1' "${AT_CKPT[@]}" \
    -ex continue "${AT_LIVE[@]}" -ex 'restart c1' "${AT_REST[@]}" -ex continue -ex continue \
    -ex continue "$@"
}
reset() { RUN_PRE=() AT_CKPT=() AT_LIVE=() AT_REST=(); }

# ---- memory, registers (x87, SSE, AVX/AVX-512, fs_base), the stop, breakpoints ----
prog=$PROGS/snap_regs
RUN_PRE=(-ex 'break marker_a')
AT_CKPT=(-ex 'info registers ymm1 st0 fs_base rip' -ex 'print counter' -ex 'delete 1'
         -ex 'break marker_b' -ex 'set var counter = 555' -ex 'set var $fs_base = 0')
AT_LIVE=(-ex 'print counter')
AT_REST=(-ex 'info registers ymm1 st0 fs_base rip' -ex 'print counter' -ex 'x/s heap')
out=$(ck "$prog")
reset
regs_before=$(before_restore "$out" | grep -E '^(ymm1|st0|fs_base|rip) ')
regs_after=$(after_restore "$out" | grep -E '^(ymm1|st0|fs_base|rip) ')
if [ "$(printf '%s\n' "$regs_before" | wc -l)" = 4 ] && [ "$regs_before" == "$regs_after" ]; then
  ok "ymm1, st0, fs_base and rip are back after the restore"
else
  fail "ymm1, st0, fs_base and rip are back after the restore" "before:
$regs_before
after:
$regs_after
$out"
fi
expect "the live run crashed on the fs_base the user zeroed" "$(before_restore "$out")" \
  'Program received signal SIGSEGV'
expect_order "counter is the checkpoint's again" "$out" '^\$1 = 100$' '^\$2 = 555$' \
  '^Switching to checkpoint [0-9]+ "c1"' '^\$3 = 100$'
rest=$(after_restore "$out")
expect_order "the restored program finds its registers and memory" "$rest" '^vectors ok' \
  '^x87 ok' '^memory ok' '^Breakpoint 2, marker_b ' 'SIGTRAP' '^done counter=203' \
  'exited normally'
expect_not "the breakpoint deleted after the checkpoint is not in the restored memory" \
  "$rest" 'marker_a|SIGTRAP.*marker'

# With recording on (the default) a restore replays the recorded future: the state at
# the restored stop is the checkpoint's all the same.
out=$(rw_shell -ex run -ex 'checkpoint c1' -ex 'set var counter = 555' -ex continue \
  -ex 'restart c1' -ex 'print counter' -ex continue -ex continue -ex 'restart c1' \
  -ex 'print counter' -ex continue -ex continue "$prog")
expect_order "with recording on, every restore brings the checkpoint's memory back" "$out" \
  '^\$1 = 100$' 'exited normally' '^\$2 = 100$' 'exited normally'

# ---- every thread, some blocked in futex, read, nanosleep, sem_wait in a handler ----
prog=$PROGS/snap_threads
RUN_PRE=(-ex 'handle SIGUSR2 nostop noprint')
AT_CKPT=(-ex 'info threads')
AT_REST=(-ex 'info threads')
out=$(ck "$prog")
reset
lwps_before=$(before_restore "$out" | grep -E '^[* ] +[0-9]+ +Thread ' | grep -oE 'LWP [0-9]+\) "[^"]*"' | sort)
lwps_after=$(after_restore "$out" | grep -E '^[* ] +[0-9]+ +Thread ' | grep -oE 'LWP [0-9]+\) "[^"]*"' | sort)
if [ "$(printf '%s\n' "$lwps_before" | wc -l)" = 7 ] && [ "$lwps_before" == "$lwps_after" ]; then
  ok "info threads shows the same 7 threads, tids and names after the restore"
else
  fail "info threads shows the same 7 threads, tids and names after the restore" "before:
$lwps_before
after:
$lwps_after
$(after_restore "$out")"
fi
expect_order "every restored thread runs on, is joined, and the program ends" "$(after_restore "$out")" \
  '^t1 cond_wait: ok' '^t2 read: ok' '^t3 nanosleep: ok' '^t4 spin: ok' \
  '^t5 cond_timedwait: ok' '^t6 handler on altstack: ok' 'SIGTRAP' '^joined all' \
  'exited normally'

# ---- a process tree joined by pipes ----
prog=$PROGS/snap_tree
AT_CKPT=(-ex 'info inferiors')
AT_REST=(-ex 'info inferiors')
out=$(ck "$prog")
reset
kids_before=$(before_restore "$out" | grep -oE 'process [0-9]+' | sort -u)
kids_after=$(after_restore "$out" | grep -oE 'process [0-9]+' | sort -u | grep -xF "$kids_before")
expect_eq "the tree comes back with its pids" "$kids_after" "$kids_before"
expect_order "the restored child reads what was left in the pipe and answers" "$(after_restore "$out")" \
  '^child counted 200 lines' '^parent: child reported 200' 'SIGTRAP' '^parent done' \
  'exited with code 01|exited normally'

# ---- pids and tids: getpid, gettid, glibc's cached tids, kill/raise/pthread_kill ----
prog=$PROGS/snap_pids
RUN_PRE=(-ex 'handle SIGUSR1 nostop noprint' -ex 'handle SIGUSR2 nostop noprint')
AT_CKPT=(-ex 'print pid0' -ex 'print tid0')
AT_REST=(-ex 'print pid0' -ex 'print tid0' -ex 'info inferiors')
out=$(ck "$prog")
reset
pid=$(before_restore "$out" | grep -m1 -oE '^\$1 = [0-9]+' | cut -d' ' -f3)
expect "the restored process has its pid" "$(after_restore "$out")" "process ${pid:-none}( |$)"
expect_order "pids, tids and signals sent with them are right after the restore" "$(after_restore "$out")" \
  '^ids ok' '^thread ids ok' '^kill ok' '^raise ok' '^pthread_kill ok' 'SIGTRAP' '^done' \
  'exited normally'

# ---- fd offsets; with set checkpoint-files on, contents of files open for writing ----
prog=$PROGS/snap_files
dir=$TMP/files; mkdir -p "$dir"
RUN_PRE=(-ex 'set checkpoint-files on')
out=$(ck "$prog" "$dir")
reset
expect_order "offsets and file contents are back (set checkpoint-files on)" "$(after_restore "$out")" \
  '^read offset ok' '^out.txt ok' '^log.txt ok' 'SIGTRAP' '^done' 'exited normally'
expect_eq "the restored run wrote and truncated out.txt again" "$(cat "$dir/out.txt")" "bef"
rm -rf "$dir"; mkdir -p "$dir"
out=$(ck "$prog" "$dir")
expect_order "without checkpoint-files offsets come back but contents do not" "$(after_restore "$out")" \
  '^read offset ok' 'FAIL .*out.txt holds bef' '^out.txt WRONG' 'FAIL .*log.txt holds A' \
  '^log.txt WRONG' 'exited with code 01'

# ---- MAP_SHARED anonymous and file mappings, memfd, SysV shm ----
prog=$PROGS/snap_shm
dir=$TMP/shm; mkdir -p "$dir"
out=$(ck "$prog" "$dir")
expect_order "shared memory contents are written back" "$(after_restore "$out")" \
  '^anon ok' '^file ok' '^memfd ok' '^sysv ok' 'SIGTRAP' '^done' 'exited normally'

# ---- pending signals, handlers, alarm/setitimer/timer_create; cwd, umask, rlimits ----
prog=$PROGS/snap_signals
dir=$(cd "$TMP" && pwd -P)/sig; mkdir -p "$dir"
RUN_PRE=()
for s in SIGUSR1 SIGUSR2 SIGALRM SIGVTALRM SIGPROF SIG34 SIG35 SIG36 SIG37 SIG38; do
  RUN_PRE+=(-ex "handle $s nostop noprint")
done
AT_LIVE=(-ex 'print (int)umask(0)')
out=$(ck "$prog" "$dir")
reset
expect_order "signals, timers with their remaining time, cwd, umask, rlimits are back" "$(after_restore "$out")" \
  '^pending ok' '^itimer ok' '^timers ok' '^cwd ok' '^umask ok' '^rlimit ok' \
  '^delivered ok' '^fired ok' 'SIGTRAP' '^done' 'exited normally'

# ---- a program leading its own process group or session ----
prog=$PROGS/snap_pgrp
RUN_PRE=(-ex 'handle SIGUSR1 nostop noprint')
for mode in setpgid setsid; do
  AT_CKPT=(-ex 'info inferiors')
  AT_REST=(-ex 'info inferiors')
  out=$(ck "$prog" "$mode")
  expect_not "$mode: the restore gives the pid back" "$out" 'restored as pid'
  expect_order "$mode: pid, process group and session are back; kill(0) reaches the group" \
    "$(after_restore "$out")" '^ids ok' '^group signal ok' 'SIGTRAP' '^done' 'exited normally'
done
# Checkpointed after the group's child exited (unwaited for: a zombie in the group
# whose id is the pid to restore, or on its way out).
out=$(rw_shell -ex 'set record off' -ex 'handle SIGUSR1 nostop noprint' -ex run -ex continue \
  -ex 'checkpoint c2' -ex continue -ex 'restart c2' -ex continue "$prog" setpgid)
expect_not "after its child exited, the group leader's restore gives the pid back" "$out" 'restored as pid'
expect_order "after its child exited, the group leader restores and ends" "$out" \
  '^Switching to checkpoint [0-9]+ "c2"' '^done' 'exited normally'
# A shell with job control puts each job in a group of its own. The job stops its shell
# (SIGUSR2) to be checkpointed; after a restore bash cannot wait for it (its restored
# child is rewind's: docs/architecture.md), so bash sleeps while the job finishes.
out=$(ck /bin/bash -c "trap : USR2; set -m; $prog job; sleep 1; echo bash done")
reset
expect_not "a job of bash -c 'set -m' gets its pid back" "$out" 'restored as pid'
expect_order "a job of bash -c 'set -m' keeps its ids after the restore" "$(after_restore "$out")" \
  '^ids ok' '^group signal ok' '^done' '^bash done'

exit $T_FAILED
