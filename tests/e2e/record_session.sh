#!/usr/bin/env bash
# Record and replay inside the shell: recording is on by default, restoring a
# checkpoint replays from its event (pipes not read twice, output not printed twice,
# clocks/rdtsc/getrandom/getpid as recorded), the end of the log goes live.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/rr_inputs
# The address of vals: a PIE at its fixed base (ASLR is off), no symbol layer needed.
vals=$(printf '0x%x' $((0x555555554000 + 0x$(nm "$prog" | awk '$3 == "vals" { print $1 }'))))

# feed LINE...: the lines on a pipe (the program reads them a byte at a time).
feed() { for l in "$@"; do echo "$l"; sleep 0.2; done; }

out=$(feed one two three | rw_shell -ex 'break mark' -ex run -ex c -ex "x/12gx $vals" \
  -ex 'restart 1' -ex 'info record' -ex c -ex "x/12gx $vals" -ex c -ex c "$prog" | grep -v '^\(inject\|make\|take\)')
expect "recording is on by default (replaying after restart)" "$out" '^Mode: replaying\. History branch 1: [0-9]+ events'
n=$(printf '%s\n' "$out" | grep -c "^stage 1 read 'two'$")
expect_eq "output of the replayed span is not printed twice" "$n" 1
expect "the end of the log goes live, and says so" "$out" \
  '^\[replay reached the end of the recording; the program now runs live\]$'
expect_order "the pipe is not read twice: the live part reads what follows" "$out" \
  "^stage 0 read 'one'$" "^stage 1 read 'two'$" "^stage 2 read 'three'$" \
  "^final 0 'one' " "^final 1 'two' " "^final 2 'three' "
dumps=$(printf '%s\n' "$out" | grep -A5 -E '^0x[0-9a-f]+ <vals>:' | grep -E '^0x')
first=$(printf '%s\n' "$dumps" | head -6)
second=$(printf '%s\n' "$dumps" | tail -6)
if [ -n "$first" ] && [ "$(printf '%s\n' "$first" | grep -c .)" = 6 ]; then
  expect_eq "clock, rdtsc, getrandom and getpid replay as recorded" "$second" "$first"
else
  fail "clock, rdtsc, getrandom and getpid replay as recorded" "no x output in:
$out"
fi
n=$(printf '%s\n' "$out" | grep -c '^final ')
expect_eq "the program ends once, live" "$n" 3

# Without recording, restoring a checkpoint re-executes for real: the pipe is read
# again (it now holds the next line) and output is printed again.
out=$(feed one two three four | rw_shell -ex 'set record off' -ex 'break mark' -ex run -ex c \
  -ex 'info record' -ex 'restart 1' -ex c -ex 'delete' -ex c "$prog" | grep -v '^\(inject\|make\|take\)')
expect "set record off: info record says so" "$out" '^Recording is off'
expect "set record off: a restored checkpoint reads the pipe again" "$out" "^stage 1 read 'three'$"
expect_not "set record off: no replay notice" "$out" 'replay reached the end'

# Recording off mid-run: the log so far stays replayable from earlier checkpoints.
out=$(feed one two three | rw_shell -ex 'break mark' -ex run -ex c -ex 'set record off' \
  -ex 'info record' "$prog" | grep -v '^\(inject\|make\|take\)')
expect "set record off while running stops recording now" "$out" '^Recording stopped; the program runs unrecorded'

# Stepping over a syscall instruction gives the same registers recorded and replayed.
out=$(rw_shell -ex 'break getpid' -ex run -ex 'stepi 8' -ex 'info registers rip rax' \
  -ex 'restart 1' -ex 'stepi 8' -ex 'info registers rip rax' "$prog" </dev/null | grep -E '^r(ip|ax) ')
first=$(printf '%s\n' "$out" | head -2)
second=$(printf '%s\n' "$out" | tail -2)
if [ "$(printf '%s\n' "$out" | grep -c .)" = 4 ]; then
  expect_eq "stepi over a trapped syscall: replay gives the recorded result" "$second" "$first"
else
  fail "stepi over a trapped syscall: replay gives the recorded result" "$out"
fi
exit $T_FAILED
