#!/usr/bin/env bash
# The agent's syscall buffer (replay/sysbuf.h): clock_gettime, gettimeofday, time and
# read are made and logged in-process while recording (no ptrace stop each), and a
# replay gives each call its record: on disk (rewind replay) and in a session (going
# back over them, and forward again). tests/progs/rr_sysbuf fills the buffer many
# times, in two threads and a forked child, from a signal handler too.
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d /tmp/rewind-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
prog=$PROGS/rr_sysbuf
N=4000

timeout -k 5 120 "$REWIND" record -o "$TMP/rec" -- "$prog" $N >"$TMP/out" 2>"$TMP/err" </dev/null
rc=$?
expect_eq "record: the program runs to its end" "$rc" 0
expect "record: it prints its digest" "$(cat "$TMP/out")" "^digest [0-9a-f]{16} child 0 bytes [0-9]+$"

dump=$(rw dump "$TMP/rec")
buffered=$(printf '%s\n' "$dump" | grep -c '^    call [0-9]*: clock_gettime(')
# Trapped, once the alarms start: only calls the SIGALRM handler made while the
# interrupted code was logging one (the agent leaves those to libc): at most one per
# delivery. (Before them, mkstemp's clock read is trapped: not a call this counts.)
trapped=$(printf '%s\n' "$dump" | sed -n '/^#[0-9]* tid [0-9]* SIGALRM/,$p' |
  grep -c '^#[0-9]* tid [0-9]* clock_gettime(')
alarms=$(printf '%s\n' "$dump" | grep -c '^#[0-9]* tid [0-9]* SIGALRM')
if [ "$buffered" -ge $((2 * N)) ] && [ "$trapped" -le "$alarms" ]; then
  ok "record: the clock calls were logged by the agent ($buffered), not at ptrace stops ($trapped, handlers)"
else
  fail "record: the clock calls were logged by the agent, not at ptrace stops" \
    "buffered $buffered, trapped $trapped, SIGALRM deliveries $alarms"
fi
tids=$(printf '%s\n' "$dump" | grep -oE '^#[0-9]+ tid [0-9]+ sysbuf' | awk '{print $3}' | sort -u | wc -l)
expect_eq "record: the main thread, the second thread and the child each logged theirs" "$tids" 3
expect "record: reads of the pipe and the file too (at the file's offset, without blocking)" \
  "$dump" '^    call [0-9]+: preadv2\(3, 0x[0-9a-f]+, 1, -1, 0, 8\) = 8 '

same=0
for i in 1 2 3; do
  timeout -k 5 120 "$REWIND" replay --autopilot "$TMP/rec" >"$TMP/rep" 2>"$TMP/rerr" </dev/null
  cmp -s "$TMP/out" "$TMP/rep" && grep -q 'memory at exit: [0-9a-f]* (as recorded)' "$TMP/rerr" &&
    same=$((same + 1))
done
expect_eq "replay: 3 of 3 replays print the recorded digest and end with its memory" "$same" 3
expect_not "replay: no divergence" "$(cat "$TMP/rerr")" 'diverged'

# In a session: back over buffered calls and forward again.
out=$(rw_shell -ex 'break checkpoint' -ex "run 3000" -ex 'print/x digest' \
  -ex 'reverse-finish' -ex 'reverse-next' -ex 'reverse-next' -ex 'print/x digest' \
  -ex 'continue' -ex 'print/x digest' -ex 'continue' -ex 'print/x digest' \
  -ex 'reverse-continue' -ex 'print stage' -ex 'print/x digest' -ex 'continue' -ex 'continue' \
  -ex 'continue' -ex 'continue' -ex 'continue' -- "$prog")
d1=$(first_match "$out" '^\$1 = 0x[0-9a-f]+' | cut -d' ' -f3)
d2=$(first_match "$out" '^\$2 = 0x[0-9a-f]+' | cut -d' ' -f3)
d3=$(first_match "$out" '^\$3 = 0x[0-9a-f]+' | cut -d' ' -f3)
d6=$(first_match "$out" '^\$6 = 0x[0-9a-f]+' | cut -d' ' -f3)
if [ -n "$d1" ] && [ "$d1" != "$d2" ]; then
  ok "session: going back into the clock loop, the digest is an earlier one"
else
  fail "session: going back into the clock loop, the digest is an earlier one" "$out"
fi
expect_eq "session: forward again, the replayed clock values give the same digest" "$d3" "$d1"
expect "session: back from stage 2 to stage 1 (pipe, fork, reads)" "$out" '^\$5 = 0$'
expect_eq "session: ... where the digest is what it was" "$d6" "$d1"
expect "session: forward past the end of the log, live, to the program's end" "$out" \
  '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
expect_not "session: no divergence" "$out" 'diverged|not in the recording'

# A program without the agent (set agent off): recorded and replayed as before.
out=$(rw_shell -ex 'set agent off' -ex 'break checkpoint' -ex "run 300" -ex 'print/x digest' \
  -ex 'reverse-finish' -ex 'continue' -ex 'print/x digest' -- "$prog")
a1=$(first_match "$out" '^\$1 = 0x[0-9a-f]+' | cut -d' ' -f3)
a2=$(first_match "$out" '^\$2 = 0x[0-9a-f]+' | cut -d' ' -f3)
if [ -n "$a1" ] && [ "$a1" = "$a2" ]; then
  ok "set agent off: the calls are trapped, and replayed the same"
else
  fail "set agent off: the calls are trapped, and replayed the same" "$out"
fi
