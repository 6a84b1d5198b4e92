#!/usr/bin/env bash
# detach leaves the program running — also a recorded one, whose seccomp filter and
# rdtsc trap need a tracer for life: a babysitter takes it over (core/babysit.c).
. "$(dirname "$0")/lib.sh"
loop=$PROGS/loop
nd=$PROGS/rr_nondet
tmp=$(mktemp -d /tmp/rewind-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

out=$(rw_shell -ex 'break bump' -ex run -ex detach "$loop")
expect "a recorded program is detached" "$out" '^\[Inferior 1 \(process [0-9]+\) detached\]$'
expect "a babysitter serves its recording filter" "$out" \
  '^\[process [0-9]+ keeps serving the program'"'"'s recording filter after the detach\]$'
expect "its system calls work: it prints and ends right" "$out" '^total=20 counter=10$'

out=$(rw_shell -ex 'set record off' -ex 'break bump' -ex run -ex detach "$loop")
expect_not "unrecorded, no babysitter is needed" "$out" 'babysitter|keeps serving'
expect "and it ends right" "$out" '^total=20 counter=10$'

out=$(rw_shell -ex 'break main' -ex run -ex detach -- "$nd" time)
expect "rdtsc and rdtscp still work after the detach (emulated)" "$out" \
  '^gettimeofday [0-9.]+ time [0-9]+ rdtsc [0-9]+ rdtscp [0-9]+ aux [0-9]+$'
expect_not "...no SIGSEGV" "$out" 'Segmentation|SIGSEGV'

out=$(rw_shell -ex 'break main' -ex run -ex detach -- "$nd" threads)
expect "threads made after the detach run" "$out" '^counter [0-9]+ \(a race'
out=$(rw_shell -ex 'break main' -ex run -ex detach -- "$nd" exec)
expect "fork and exec after the detach work" "$out" '^child exited 0$'

# Job control and signals from outside after the detach.
rw_shell -ex 'break main' -ex run -ex detach -- "$nd" kill >"$tmp/out" 2>&1 &
shell=$!
pid=
for _ in $(seq 200); do
  pid=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$tmp/out")
  [ -n "$pid" ] && break
  sleep 0.05
done
if [ -z "$pid" ]; then
  fail "the detached program starts" "$(cat "$tmp/out")"
else
  ok "the detached program starts"
  sitter=$(sed -n 's/^\[process \([0-9]*\) keeps serving.*/\1/p' "$tmp/out")
  # rewind (batch mode) ends after the detach: stop the program only once it has.
  # Its process group is orphaned when rewind goes, and a group orphaned with a
  # stopped member gets SIGHUP from the kernel, as after gdb's detach and quit (under
  # the sanitizers rewind's exit is slow enough for the test to stop it first).
  wait "$shell"
  kill -STOP "$pid"
  for _ in $(seq 60); do
    st=$(sed -n 's/^State:\s*\([A-Za-z]\).*/\1/p' "/proc/$pid/status")
    [ "$st" = t ] || [ "$st" = T ] && break
    sleep 0.05
  done
  # t, not T: stopped under the babysitter's ptrace (PTRACE_LISTEN).
  expect "kill -STOP stops it" "$st" '^[Tt]$'
  kill -CONT "$pid"; sleep 0.3
  st=$(sed -n 's/^State:\s*\([A-Za-z]\).*/\1/p' "/proc/$pid/status")
  expect_eq "kill -CONT resumes it" "$st" R
  kill -USR1 "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  expect "a signal from outside is delivered" "$(cat "$tmp/out")" '^SIGUSR1 after some work$'
  # It leaves when its last tracee's exit has been reaped: give it a moment.
  for _ in $(seq 40); do { [ -z "$sitter" ] || ! kill -0 "$sitter" 2>/dev/null; } && break; sleep 0.05; done
  if [ -n "$sitter" ] && kill -0 "$sitter" 2>/dev/null; then
    fail "the babysitter ends with the program" "process $sitter still there"
  else
    ok "the babysitter ends with the program"
  fi
fi

# ---- rewind itself killed: nothing is left stopped ----
# kids_of PID: the pids whose parent is PID.
kids_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }
state_of() { sed -n 's/^State:\s*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || echo gone; }
(sleep 60 | timeout -k 5 70 "$REWIND" shell -ex 'break bump' -ex run -ex checkpoint "$loop" \
   >"$tmp/k1" 2>&1) &
for _ in $(seq 200); do grep -q '^Checkpoint ' "$tmp/k1" && break; sleep 0.05; done
rpid=$(pgrep -f "^$REWIND shell -ex break bump" | head -1)
progs=$(kids_of "$rpid")
if [ -z "$rpid" ] || [ -z "$progs" ]; then
  fail "rewind is stopped at a breakpoint with a checkpoint" "$(cat "$tmp/k1")"
else
  kill -9 "$rpid"; sleep 0.5
  left=
  for p in $progs; do s=$(state_of "$p"); [ "$s" = gone ] || [ "$s" = Z ] || left="$left $p:$s"; done
  expect_eq "rewind killed: the launched program and its checkpoints are gone (EXITKILL)" "$left" ""
fi

"$PROGS/spin" & spid=$!
(sleep 60 | timeout -k 5 70 "$REWIND" shell -ex "attach $spid" >"$tmp/k2" 2>&1) &
for _ in $(seq 200); do [ "$(state_of "$spid")" = t ] && break; sleep 0.05; done
rpid=$(pgrep -f "^$REWIND shell -ex attach $spid" | head -1)
if [ -z "$rpid" ]; then fail "rewind attached to a running program" "$(cat "$tmp/k2")"; else
  kill -9 "$rpid"; sleep 0.5
  expect "rewind killed: an attached program runs on" "$(state_of "$spid")" '^[RS]$'
fi
kill -9 "$spid" 2>/dev/null
