#!/usr/bin/env bash
# Going back from the end: after the program exited, the reverse commands (and last,
# goto) bring it back to its exit call first, as rr lets gdb go back from the end of
# a replay; a program whose history is not recorded, or that did not end by its
# exit call, still says it is not being run.
. "$(dirname "$0")/lib.sh"
loop=$PROGS/loop

# ---- reverse-continue from the exit, back and forth ----
out=$(rw_shell -ex 'break bump' -ex run -ex delete -ex continue -ex 'break bump' \
  -ex reverse-continue -ex 'print by' -ex 'print counter' -ex reverse-continue -ex 'print by' \
  -ex continue -ex delete -ex continue "$loop")
expect_order "reverse-continue after the exit stops at the last hit, then the one before" "$out" \
  '^total=20 counter=10$' 'exited normally' \
  '^\[The program had exited: back at its exit call, the end of the recording\.\]$' \
  '^Breakpoint 2, bump \(by=4\) at .*loop\.c:8$' '^\$1 = 4$' '^\$2 = 6$' \
  '^Breakpoint 2, bump \(by=3\) at .*loop\.c:8$' '^\$3 = 3$' \
  '^Breakpoint 2, bump \(by=4\) at .*loop\.c:8$' 'exited normally'
n=$(printf '%s\n' "$out" | grep -c '^total=20 counter=10$')
expect_eq "going forward again from there replays: the output is not printed twice" "$n" 1

# ---- reverse-stepi from the exit: the instruction before the exit call ----
out=$(rw_shell -ex run -ex reverse-stepi -ex 'x/i $pc' -ex when -ex stepi -ex stepi "$loop")
expect_order "reverse-stepi after the exit lands in _exit, before its syscall" "$out" \
  'exited normally' '^\[The program had exited' ' in (__GI__exit|_exit) ' \
  '^=> 0x[0-9a-f]+ <(__GI__exit|_exit)\+[0-9]+>:' '^Current position: event [0-9]+, '
expect "and stepping forward from there exits again" "$out" \
  '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'

# ---- last: who wrote the value the program ended with ----
out=$(rw_shell -ex run -ex 'last counter' "$loop")
expect_order "last counter after the exit finds the final write" "$out" \
  'exited normally' '^Old value = 6$' '^New value = 10$' ' in bump \(by=4\) at .*loop\.c:8$'

# ---- threads ----
out=$(rw_shell -ex 'break add_total' -ex run -ex delete -ex continue -ex 'break add_total' \
  -ex reverse-continue -ex 'info threads' "$PROGS/threads")
expect_order "a multithreaded program goes back from its exit" "$out" 'exited normally' \
  '^\[The program had exited' '^Breakpoint 2, add_total \(v=[0-9]+\) at .*threads\.c:21$' \
  '^\* [0-9]+ +Thread .* add_total '

# ---- no recorded history: still not running ----
out=$(rw_shell -ex 'set record off' -ex run -ex reverse-continue "$loop")
expect "without a recording, reverse-continue after the exit says it is not running" "$out" \
  '^The program is not being run\.$'

# ---- a recording on disk (rewind replay): the same, and its replays print nothing ----
tmp=$(mktemp -d /tmp/rewind-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rw record -o "$tmp/rec" -- "$loop" >/dev/null
out=$(timeout -k 5 120 "$REWIND" replay --batch -ex 'break bump' -ex run -ex delete -ex continue \
  -ex 'break bump' -ex reverse-continue -ex 'print by' -ex delete -ex continue "$tmp/rec" 2>&1)
expect_order "rewind replay: reverse-continue after the end, then forward to the end again" "$out" \
  '^total=20 counter=10$' 'exited normally' '^\[The program had exited' \
  '^Breakpoint 2, bump \(by=4\) at ' '^\$1 = 4$' '^total=20 counter=10$' 'exited normally'
n=$(printf '%s\n' "$out" | grep -c '^total=20 counter=10$')
expect_eq "rewind replay: the program's output shows once per forward pass, not in the reverse replays" "$n" 2

# ---- gdb on a replay (rewind gdb --replay): the end of the recording is a stop, as
# under rr, and gdb goes back from there ----
if need gdb "gdb on a replay stops at the end of the recording"; then
  out=$(timeout -k 5 120 "$REWIND" gdb --batch -ex 'break bump' -ex run -ex delete -ex continue \
    -ex 'break bump' -ex reverse-continue -ex 'print by' -ex delete -ex continue -ex reverse-stepi \
    -ex 'x/i $pc' --replay "$tmp/rec" 2>&1)
  expect_order "gdb on a replay: the end of the recording is a stop; reverse-continue and reverse-stepi from there" \
    "$out" '^No more reverse-execution history\.$' ' in (__GI__exit|_exit) ' \
    '^Breakpoint 2, bump \(by=4\) at ' '^\$1 = 4$' '^No more reverse-execution history\.$' \
    '^=> 0x[0-9a-f]+ <(__GI__exit|_exit)\+[0-9]+>:'
fi
