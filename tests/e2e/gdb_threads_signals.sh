#!/usr/bin/env bash
# Real gdb through `rewind gdb`: a program with four threads (info threads, thread
# switching, per-thread frames), signals (SIGSEGV, handled SIGUSR1; handle stop,
# nostop, nopass as gdb's QPassSignals), and gdb's ^C while the program runs.
. "$(dirname "$0")/lib.sh"
need gdb "gdb tests"

P=$PROGS/gdb_prog
GDB_OPTS=(-nx -batch -iex 'set debuginfod enabled off' -iex 'set pagination off')
native() {
  local c=(); while [ "$1" != -- ]; do c+=("$1"); shift; done; shift
  timeout -k 5 120 gdb "${GDB_OPTS[@]}" "${c[@]}" --args "$@" 2>&1 </dev/null
}
rgdb() {
  local c=(); while [ "$1" != -- ]; do c+=("$1"); shift; done; shift
  timeout -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" "${c[@]}" -- "$@" 2>&1 </dev/null
}
gnorm() {
  sed -E \
    -e '/^\[Thread debugging using libthread_db enabled\]/d' \
    -e '/^Using host libthread_db library/d' \
    -e '/^\[New Thread /d' -e '/^\[Thread .* exited\]$/d' \
    -e 's/process [0-9]+/process N/g' \
    -e 's/0x0*7fff[0-9a-f]{8}/0x7fff.../g'
}
same() {
  local name=$1; shift
  local n
  n=$(native "$@" | gnorm)
  R=$(rgdb "$@" | gnorm)
  if [ "$n" == "$R" ]; then ok "$name"; else
    fail "$name" "$(diff <(printf '%s\n' "$n") <(printf '%s\n' "$R") | head -40 | sed 's/^</gdb   </; s/^>/rewind>/')"
  fi
}

# ---- threads ----
# Without recording: while recording, a single step resumes threads that wait in
# system calls (main, in pthread_join), so the others can pass a breakpoint gdb has
# taken out to step over it (about one run in five misses hits; see the report).
out=$(timeout -k 5 120 "$REWIND" gdb --no-record "${GDB_OPTS[@]}" -ex 'break report' -ex run -ex 'info threads' -ex 'thread 3' -ex 'thread apply all bt' \
      -ex continue -ex continue -ex continue -ex 'info threads' -ex continue -- "$PROGS/gdb_threads" \
      2>&1 </dev/null)
n=$(printf '%s\n' "$out" | grep -cE '^  +[0-9]+ +Thread [0-9]+\.[0-9]+ "gdb_threads" ' )
m=$(printf '%s\n' "$out" | grep -cE '^\* [0-9]+ +Thread [0-9]+\.[0-9]+ "gdb_threads" ' )
expect_eq "info threads lists the main thread and the 4 workers (twice)" "$((n + m))" 10
expect "new threads are announced" "$out" '^\[New Thread [0-9]+\.[0-9]+\]$'
expect "thread N switches" "$out" '^\[Switching to thread 3 \(Thread [0-9]+\.[0-9]+\)\]$'
# (main may still be in the clone of the last worker when the first one reports)
expect "the main thread's backtrace: in pthread_join or pthread_create" "$out" \
  '^#[0-9]+ +0x[0-9a-f]+ in main \(\) at .*gdb_threads\.c:(36|38)$'
workers=$(printf '%s\n' "$out" | grep -oE ' in worker \(arg=0x[0-3]\)' | sort -u | wc -l)
expect_eq "each thread has its own stack (thread apply all bt)" "$workers" 4
hits=$(printf '%s\n' "$out" | grep -cE '^Thread [0-9]+ "gdb_threads" hit Breakpoint 1, report \(id=[0-3],')
expect_eq "each of the 4 threads hits the breakpoint" "$hits" 4
expect "the threads' work adds up" "$out" '^sum=100$'
expect "and the program exits normally" "$out" 'exited normally\]$'

# ---- signals ----
same "SIGSEGV is reported, then kills the program, as in gdb" \
  -ex run -ex bt -ex 'print $_siginfo.si_signo' -ex 'print $_siginfo._sifields._sigfault.si_addr' \
  -ex continue -- "$P" segv
expect "SIGSEGV stops the program" "$R" '^Program received signal SIGSEGV, Segmentation fault\.$'
expect "\$_siginfo comes through qXfer:siginfo" "$R" '^\$1 = 11$'
expect "continuing delivers it" "$R" '^Program terminated with signal SIGSEGV, Segmentation fault\.$'

same "a raised SIGUSR1 stops the program and is passed on continue" \
  -ex run -ex continue -- "$P" usr1
expect "SIGUSR1 stops" "$R" '^Program received signal SIGUSR1, User defined signal 1\.$'
expect "and reaches the handler" "$R" '^result=68 counter=6 usr1=1$'

same "handle SIGUSR1 nostop noprint: delivered without a stop" \
  -ex 'handle SIGUSR1 nostop noprint' -ex run -- "$P" usr1
expect_not "no stop" "$R" 'Program received signal SIGUSR1'
expect "the handler ran" "$R" '^result=68 counter=6 usr1=1$'

same "handle SIGUSR1 nopass: stops, then discarded" \
  -ex 'handle SIGUSR1 nopass' -ex run -ex continue -- "$P" usr1
expect "the handler never ran" "$R" '^result=68 counter=6 usr1=0$'

same "signal 0 and signal SIGUSR1 from gdb" \
  -ex run -ex 'signal 0' -- "$P" usr1
expect "signal 0 discards it" "$R" '^result=68 counter=6 usr1=0$'

# ---- gdb's ^C ----
# gdb gets one SIGINT while the program spins; it sends ^C and the server interrupts.
# (Not `timeout -s INT`: it signals gdb twice, which gdb takes for an unresponsive target.)
timeout --foreground -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" -ex run -ex 'print spinning' \
  -ex 'set var spinning = 0' -ex continue -- "$P" spin >"$TMP/int.out" 2>&1 </dev/null &
tpid=$!
sleep 3
pkill -INT -P "$tpid"   # gdb, the child of timeout
wait "$tpid"
out=$(cat "$TMP/int.out")
expect "^C stops the running program" "$out" '^Program received signal SIGINT, Interrupt\.$'
expect "where it was spinning" "$out" 'main \(argc=2, argv=0x[0-9a-f]+\) at .*gdb_prog\.c:(87|88)$'
expect "and it goes on to the end afterwards" "$out" '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
# ^C during a single step that blocks (stepi over the syscall of nanosleep(60)).
cat >"$TMP/tosyscall.py" <<'PY'
gdb.execute("set breakpoint pending on")
gdb.execute("break clock_nanosleep")
gdb.execute("run")
for _ in range(200):
    if "syscall" in gdb.execute("x/i $pc", to_string=True):
        break
    gdb.execute("stepi", to_string=True)
print("at the syscall", flush=True)
gdb.execute("stepi")
print("stepped", flush=True)
PY
timeout --foreground -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" -x "$TMP/tosyscall.py" -- "$P" sleep \
  >"$TMP/step.out" 2>&1 </dev/null &
tpid=$!
for _ in $(seq 300); do grep -q 'at the syscall' "$TMP/step.out" && break; sleep 0.1; done
sleep 1
pkill -INT -P "$tpid"
wait "$tpid"
out=$(cat "$TMP/step.out")
expect_order "^C interrupts a stepi blocked in a system call" "$out" '^at the syscall$' \
  '^Program received signal SIGINT, Interrupt\.$' '^stepped$'
exit $T_FAILED
