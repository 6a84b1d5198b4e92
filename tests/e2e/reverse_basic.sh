#!/usr/bin/env bash
# Reverse execution in the shell on single-threaded programs: gdb's own `record full`
# is the oracle for what reverse-step/next/stepi/finish/continue print (on simple -O0
# code it works, with glibc kept off its AVX-512 paths); when/goto, last, bisect and
# the agreement of forward and backward steps are checked against the program itself.
. "$(dirname "$0")/lib.sh"
loop=$PROGS/loop
prog=$PROGS/rev_prog
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX2_Usable,-AVX_Usable,-ERMS

# oracle NAME PROG CMD...: the same commands after `break main; run` in gdb (recording
# from there with record full) and in rewind (recording from the start); the outputs
# after the marker must be the same ("Hardware watchpoint" is "Watchpoint" in gdb's
# record, which has software watchpoints only). gdb's history begins at main and a
# forward command in its replay stops at the end of the history, where rewind's goes
# on: the command lists stay inside both.
oracle() {
  local name=$1 p=$2; shift 2
  local a=() c
  for c in "$@"; do a+=(-ex "$c"); done
  local g r
  g=$(timeout 120 gdb -nx -batch -ex 'set can-use-hw-watchpoints 0' -ex 'break main' -ex run \
        -ex 'record full' -ex 'delete' -ex 'echo =====\n' "${a[@]}" "$p" 2>&1 |
      sed -n '/^=====$/,$p' | normalize)
  r=$(rw_shell -ex 'break main' -ex run -ex 'delete' -ex 'echo =====\n' "${a[@]}" "$p" |
      sed -n '/^=====$/,$p' | sed 's/Hardware watchpoint/Watchpoint/' | normalize)
  if [ -n "$g" ] && [ "$g" == "$r" ]; then ok "$name"; else
    fail "$name" "$(diff <(printf '%s\n' "$g") <(printf '%s\n' "$r") | head -40 | sed 's/^</gdb   </; s/^>/rewind>/')"
  fi
}

if command -v gdb >/dev/null 2>&1; then
  oracle "reverse-step/next/finish as gdb: into callees, out to callers, loops" "$loop" \
    'break bump' c c delete finish next next 'p $pc' reverse-step 'p $pc' reverse-step 'p $pc' \
    reverse-step 'p $pc' reverse-step 'p $pc' reverse-step 'p $pc' reverse-next 'p $pc' \
    reverse-next 'p $pc' next 'p $pc' reverse-finish
  oracle "reverse-continue and reverse-next stop at breakpoints on the way" "$loop" \
    'break bump' c c c reverse-continue reverse-next reverse-next reverse-next reverse-next \
    reverse-stepi 'info breakpoints'
  oracle "reverse-stepi and reverse-nexti: over a call, into a return, a breakpoint inside" "$loop" \
    'break bump' c c next next next reverse-stepi reverse-stepi \
    reverse-stepi stepi stepi reverse-nexti reverse-nexti
  oracle "reverse-next from a function's first instruction: to the caller's line" "$loop" \
    'break *bump' c c reverse-next 'p $pc' reverse-next 'p $pc'
  oracle "reverse-step from a function's first instruction: to the caller's line" "$loop" \
    'break *bump' c c c reverse-step 'p $pc'
  oracle "a watchpoint going backwards stops at the write: old and new values swapped" "$loop" \
    'watch counter' c c c reverse-continue reverse-continue reverse-stepi reverse-stepi \
    reverse-next reverse-next 'reverse-step' 'reverse-step' 'reverse-step'
else
  skip "reverse commands against gdb's record full" "gdb is not installed"
fi

# The start of the recording.
out=$(rw_shell -ex 'break bump' -ex run -ex reverse-continue -ex 'info registers rip' "$loop")
expect "reverse-continue with no earlier hit stops at the start of the recording" "$out" \
  '^No more reverse-execution history\.$'
expect "there: the program's first instruction" "$out" '^0x[0-9a-f]+ in _start \(\)'

# Forward then back: the same state (registers of every thread, writable memory).
out=$(rw_shell -ex 'break fact' -ex run -ex checksum -ex 'stepi 7' -ex checksum -ex 'stepi 18' \
  -ex checksum -ex 'reverse-stepi 25' -ex checksum -ex 'stepi 7' -ex checksum -ex 'reverse-stepi 7' \
  -ex 'next 3' -ex 'reverse-next 3' -ex checksum "$prog")
sums=$(printf '%s\n' "$out" | grep '^memory ')
a=$(printf '%s\n' "$sums" | sed -n 1p)
b=$(printf '%s\n' "$sums" | sed -n 2p)
c=$(printf '%s\n' "$sums" | sed -n 3p)
if [ -n "$a" ] && [ "$a" != "$b" ] && [ "$b" != "$c" ]; then
  expect_eq "stepi 25 then reverse-stepi 25: the same state" "$(printf '%s\n' "$sums" | sed -n 4p)" "$a"
  expect_eq "stepi 7 again from there: the state of the first time" "$(printf '%s\n' "$sums" | sed -n 5p)" "$b"
  expect_eq "next 3 then reverse-next 3: the same state" "$(printf '%s\n' "$sums" | sed -n 6p)" "$a"
else
  fail "checksums differ between points" "$out"
fi

# when / goto: a position printed by when is a place to come back to. Positions name
# recorded threads, so they stay valid across sessions of one recording (rewind replay).
"$REWIND" record -o "$TMP/rec" "$prog" >/dev/null 2>&1
out=$(rw replay --batch -ex 'break add' -ex c -ex 'next' -ex when -ex checksum -ex 'p p->sum' "$TMP/rec" </dev/null)
pos=$(first_match "$out" '\[#[0-9]+:[0-9]+:0x[0-9a-f]+:[0-9]+:[0-9a-f]+\]' | tr -d '[]')
if [ -n "$pos" ]; then
  back=$(rw replay --batch -ex 'break add' -ex c -ex c -ex 'next 2' -ex "goto $pos" -ex when \
    -ex checksum -ex 'p p->sum' -ex c -ex 'p v' "$TMP/rec" </dev/null)
  expect "when prints the event, location and id" "$out" \
    '^Current position: event [0-9]+, 0x[0-9a-f]+ in add \(rev_prog\.c:38\) \[#'
  expect "when names the snapshot before" "$out" '^Snapshot before: checkpoint [0-9]+ \(event [0-9]+\) at add \(rev_prog\.c:37\)$'
  n=$(printf '%s\n' "$back" | grep -c -- "$pos")
  expect_eq "goto POSITION (of another session) comes back to it (when says so)" "$n" 1
  expect "goto prints where it went" "$back" '^add \(p=0x[0-9a-f]+ <acc>, v=120\) at .*rev_prog\.c:38$'
  s1=$(printf '%s\n' "$out" | grep '^memory ' | head -1)
  s2=$(printf '%s\n' "$back" | grep '^memory ' | head -1)
  expect_eq "goto POSITION: the state there is the state it had" "$s2" "$s1"
  expect "and the program goes on from there" "$back" '^\$2 = 20$'
else
  fail "when prints a position" "$out"
fi
out=$(rw replay --batch -ex 'goto #99999:1:0x1234:0:0' -ex 'goto nonsense' "$TMP/rec" </dev/null)
expect "goto a position not in the recording fails and says so" "$out" '#99999'

# last: who wrote this.
out=$(rw_shell -ex 'break printf' -ex run -ex 'up' -ex 'last counter' -ex 'last acc.count' -ex 'last a + b' "$prog")
expect_order "last counter: the assignment in main, old and new value" "$out" \
  '^counter was last changed by this instruction:$' '^Old value = 10$' '^New value = 100$' \
  '^main \(\) at .*rev_prog\.c:54$' '^54	+counter = 100;$' '^#0  main \(\) at .*rev_prog\.c:54$'
expect_order "last acc.count: the write in add (the second call), with its backtrace" "$out" \
  '^acc\.count was last changed by this instruction:$' '^Old value = 1$' '^New value = 2$' \
  '^#0 .* add \(p=0x[0-9a-f]+ <acc>, v=20\)' '^#1 .* main \(\) at .*rev_prog\.c:53$'
expect_order "last of an expression of two variables" "$out" \
  '^a \+ b was last changed by this instruction:$' '^Old value = 12$' '^New value = 18$' \
  'rev_prog\.c:48$'
out=$(rw_shell -ex 'break fact' -ex run -ex 'last counter' -ex 'last acc.count' "$prog")
expect_order "last: a write in a function that has returned" "$out" \
  '^counter was last changed by this instruction:$' '^Old value = 6$' '^New value = 10$' '^#0 .* bump \(by=4\)'
expect "last: a value not changed before now" "$out" '^acc\.count has not changed since the start of the recording\.$'

# bisect: where a condition became true.
out=$(rw_shell -ex 'break printf' -ex run -ex 'bisect b > 5' -ex 'p b' -ex 'p a' -ex 'bisect counter >= 3' \
  -ex 'p counter' -ex 'bt 1' "$prog")
expect_order "bisect: the first point the condition holds" "$out" '^b > 5 became true here:$' \
  '^main \(\) at .*rev_prog\.c:49$' '^\$1 = 6$' '^\$2 = 3$'
expect_order "bisect across calls" "$out" '^counter >= 3 became true here:$' '^\$3 = 3$' '^#0 .*bump \(by=2\)'
out=$(rw_shell -ex 'break fact' -ex run -ex 'bisect counter > 1000' "$prog")
expect "bisect of a condition false now says so" "$out" 'The condition is false here'

# Recursion: reverse-finish leaves the right frame, reverse-step enters the last call.
out=$(rw_shell -ex 'break fact if n == 2' -ex run -ex 'bt 2' -ex 'reverse-finish' -ex 'bt 1' -ex 'p n' \
  -ex 'reverse-step' -ex 'reverse-step' -ex 'p n' -ex 'finish' "$prog")
expect_order "reverse-finish in recursion: the call in fact (n=3)" "$out" \
  '^#0  fact \(n=2\)' '^0x[0-9a-f]+ in fact \(n=3\) at .*rev_prog\.c:32$' '^\$1 = 3$'
expect "reverse-step from a call line enters no earlier call: to its start" "$out" '^\$2 = 3$'

# The timeline.
out=$(rw_shell -ex 'break add' -ex run -ex c -ex reverse-continue -ex 'info timeline' "$prog")
expect "info timeline lists the start, the stops and the current point" "$out" '^\* +[0-9]+ +[0-9]+ '
expect "with the start of the history's snapshot" "$out" '^  +1 +[0-9]+ +0\.0 +start +t1 '
# A window whose end stands right after a trapped call (getppid+7, the instruction
# after its syscall): the replay reaches that pc at the call's entry stop, and the
# stop asked for there was lost; it ran on to the end of the log ("The replay stopped
# before it reached the current point").
out=$(rw_shell -ex 'break getppid' -ex run -ex delete -ex stepi -ex stepi -ex stepi \
  -ex 'break tick' -ex reverse-continue -- "$PROGS/rev_bench" sys 2 2000)
expect "reverse-continue through a snapshot right after a system call" "$out" \
  '^Breakpoint 2, tick \(r=1\)'
expect_not "... without losing track of it" "$out" 'The replay stopped before'
exit $T_FAILED
