#!/usr/bin/env bash
# Nondeterminism, one source at a time (tests/progs/rr_nondet MODE): each mode is
# recorded once and replayed ten times; every replay must print the recorded output
# byte for byte and end with the recorded memory checksum. Then real programs:
# python3, a bash pipeline, a racy multithreaded C program.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/rr_nondet
REPLAYS=${REWIND_REPLAYS:-10}

# check NAME DIR: replay DIR $REPLAYS times against DIR.out.
check() {
  local t0=$SECONDS
  local name=$1 dir=$2 same=0 mem=0 again=0 i try rc
  for ((i = 0; i < REPLAYS; i++)); do
    for try in 1 2; do
      timeout -k 5 30 "$REWIND" replay --autopilot "$dir" </dev/null >"$dir.rep" 2>"$dir.rerr"
      rc=$?
      if cmp -s "$dir.out" "$dir.rep" &&
         grep -q '^rewind: memory at exit: [0-9a-f]* (as recorded)$' "$dir.rerr"; then
        break
      fi
      # Known flake (about 1 replay in 100 of signal recordings, under load): a
      # replay ends with other memory. Said, and that replay is made once more.
      [ $try = 1 ] && [ $rc != 124 ] && [ $rc != 137 ] || break
      again=$((again + 1))
      echo "# $name: replay $((i + 1)) differed ($(grep -o 'memory at exit.*\|diverged.*' "$dir.rerr" | head -1)); replaying it again"
    done
    cmp -s "$dir.out" "$dir.rep" && same=$((same + 1))
    grep -q '^rewind: memory at exit: [0-9a-f]* (as recorded)$' "$dir.rerr" && mem=$((mem + 1))
    if [ $rc = 124 ] || [ $rc = 137 ]; then
      echo "replay $((i + 1)) timed out" >>"$dir.rerr"; break
    fi
  done
  if [ "$same" = "$REPLAYS" ] && [ "$mem" = "$REPLAYS" ]; then
    ok "$name: $REPLAYS replays, same output and memory ($((SECONDS - t0)) s$([ $again -gt 0 ] && echo ", $again made twice"))"
  else
    fail "$name: $same/$REPLAYS replays with the recorded output, $mem/$REPLAYS with its memory" \
      "$(diff "$dir.out" "$dir.rep" | head -10; tail -5 "$dir.rerr"; diverge_context "$dir" "$dir.rerr")"
  fi
}

# record NAME ARGS...: record into $TMP/NAME, output in $TMP/NAME.out.
record() {
  local name=$1; shift
  timeout -k 5 30 "$REWIND" record -o "$TMP/$name" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err"
}

for mode in pipe tcp udp unix tty urandom time ids poll epoll fdsignal alarm sigchld maskwait threads mmap exec; do
  if record "$mode" "$prog" "$mode"; then
    check "$mode" "$TMP/$mode"
  else
    fail "$mode: recording failed" "$(tail -5 "$TMP/$mode.err")"
  fi
done

# A file changed after recording reads as it was.
printf 'first line\nsecond line\n' >"$TMP/input.txt"
record file "$prog" file "$TMP/input.txt"
echo "rewritten after the recording" >"$TMP/input.txt"
check "file changed after recording" "$TMP/file"

# A kill from another process, delivered inside a compute loop.
( timeout -k 5 30 "$REWIND" record -o "$TMP/kill" "$prog" kill </dev/null >"$TMP/kill.out" 2>"$TMP/kill.err" ) &
for i in $(seq 50); do grep -q '^ready' "$TMP/kill.out" 2>/dev/null && break; sleep 0.1; done
sleep 0.05
kill -USR1 "$(awk '/^ready/ { print $2 }' "$TMP/kill.out")"
wait
check "kill from another process" "$TMP/kill"

# Stopped and continued from another process while blocked in a read: the kernel
# restarts the read (no signal handler runs); a replay neither stops nor fails it.
fifo=$TMP/stopped.fifo
mkfifo "$fifo"
( timeout -k 5 30 "$REWIND" record -o "$TMP/stopped" "$prog" stopped <"$fifo" >"$TMP/stopped.out" 2>"$TMP/stopped.err" ) &
exec 3>"$fifo"
for i in $(seq 50); do grep -q '^ready' "$TMP/stopped.out" 2>/dev/null && break; sleep 0.1; done
pid=$(awk '/^ready/ { print $2 }' "$TMP/stopped.out")
sleep 0.1; kill -STOP "$pid"; sleep 0.1; kill -CONT "$pid"; sleep 0.1
echo "after the stop" >&3
exec 3>&-
wait
if grep -q '^read 15: after the stop$' "$TMP/stopped.out" && grep -q 'SIGSTOP' <("$REWIND" dump "$TMP/stopped"); then
  check "stopped and continued during a blocking read" "$TMP/stopped"
else
  fail "stopped and continued during a blocking read: recorded" "$(cat "$TMP/stopped.out"; tail -5 "$TMP/stopped.err")"
fi

# Native runs of the race differ; each recording replays its own outcome.
outs=$(for i in $(seq 12); do "$prog" threads; done | sort -u | wc -l)
if [ "$outs" -gt 1 ]; then ok "the racy program's outcome differs between native runs"
else skip "the racy program's outcome differs between native runs" "twelve runs agreed"; fi
record race-chaos --chaos "$prog" threads
check "race recorded with --chaos" "$TMP/race-chaos"

# Two processes computing at once take turns on one CPU by time slice. Alone in their
# address spaces, they give way without a position (YIELD: a replay switches at the
# previous event); sharing a page, each switch is a preemption at a position.
cprog=$PROGS/procs_compute
if record procs-private "$cprog" private; then
  sw=$("$REWIND" dump "$TMP/procs-private" | grep -oE '\((preempt|yield)\)' | sort | uniq -c | tr -s ' \n' ' ')
  if printf '%s' "$sw" | grep -q 'yield' && ! printf '%s' "$sw" | grep -q 'preempt'; then
    ok "two computing processes: the switches between them are yields ($sw)"
  else
    fail "two computing processes: the switches between them are yields" "switches: $sw"
  fi
  check "two computing processes" "$TMP/procs-private"
else
  fail "two computing processes: recording failed" "$(tail -5 "$TMP/procs-private.err")"
fi
if record procs-shared "$cprog" shared 20000000; then
  sw=$("$REWIND" dump "$TMP/procs-shared" | grep -oE '\((preempt|yield)\)' | sort | uniq -c | tr -s ' \n' ' ')
  if printf '%s' "$sw" | grep -q 'preempt' && ! printf '%s' "$sw" | grep -q 'yield'; then
    ok "two processes sharing a page: the switches are preemptions at positions ($sw)"
  else
    fail "two processes sharing a page: the switches are preemptions at positions" "switches: $sw"
  fi
else
  fail "two processes sharing a page: recording failed" "$(tail -5 "$TMP/procs-shared.err")"
fi

# Real programs.
if command -v python3 >/dev/null; then
  record python python3 -c 'import random,time,os; print(random.random(), time.time(), os.getpid())'
  check "python3 random/time/getpid" "$TMP/python"
fi
record bash bash -c 'echo $RANDOM; date +%s%N; cat /proc/self/stat | cut -d" " -f1'
check "bash: \$RANDOM, date, a pipeline" "$TMP/bash"

# make -j2 of a small C project: make, sh, gcc, cc1, as, collect2 and ld, spawned
# with vfork and clone3 and preempted anywhere (a child preempted at the first
# instruction after its exec, while its parent's clone3 result comes first in the
# log, used to be a divergence).
if command -v make >/dev/null && command -v cc >/dev/null; then
  proj=$TMP/proj
  mkdir -p "$proj"
  for i in 1 2 3 4; do
    echo "int f$i(int x) { int s = 0; for (int k = 0; k < x; k++) s += k ^ (s >> $i); return s; }" >"$proj/m$i.c"
  done
  printf 'int f1(int), f2(int), f3(int), f4(int);\n#include <stdio.h>\nint main(void) { printf("%%d\\n", f1(9) + f2(9) + f3(9) + f4(9)); return 0; }\n' >"$proj/main.c"
  printf 'prog: m1.o m2.o m3.o m4.o main.o\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -c -o $@ $<\n' >"$proj/Makefile"
  record make make -s -j2 -C "$proj"
  if [ -x "$proj/prog" ]; then
    REPLAYS=3 check "make -j2 (gcc, as, ld)" "$TMP/make"
  else
    fail "make -j2: recorded" "$(tail -5 "$TMP/make.err")"
  fi
else
  skip "make -j2 (gcc, as, ld)" "make or cc missing"
fi
exit $T_FAILED
