#!/usr/bin/env bash
# The ptrace and wait API under `rewind run`, where rewind is the only real tracer
# and all of it is emulated, is what the kernel gives natively: tests/progs/
# nest_ptrace checks itself (TRACEME/ATTACH/SEIZE, INTERRUPT/LISTEN, syscall info,
# single-steps, watchpoints, regsets, siginfo, EXITKILL, waits) and prints a
# transcript without pids, which must be the same both ways.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/nest_ptrace

native=$(timeout 60 "$prog" 2>&1)
nrc=$?
emul=$(timeout -k 5 120 "$REWIND" run -q -- "$prog" 2>&1)
erc=$?
expect_eq "natively every check passes" "$nrc" 0
expect_eq "under rewind run every check passes" "$erc" 0
if [ "$emul" == "$native" ]; then ok "the transcripts are the same"; else
  fail "the transcripts are the same" "$(diff <(printf '%s\n' "$native") <(printf '%s\n' "$emul") | head -40)"
fi
expect "the transcript covers the group-stop protocol" "$emul" \
  '^listening: nothing to wait for \(0\); after SIGCONT: stopped TRAP event 128$'

# The command's exit status is rewind run's; a command that cannot start is reported.
out=$(rw run -q -- sh -c 'exit 7'); rc=$?
expect_eq "rewind run exits with the command's status" "$rc" 7
out=$(rw run -q -- sh -c 'kill -TERM $$'); rc=$?
expect_eq "a command killed by a signal gives 128+signal" "$rc" 143
out=$(rw run -q -- /nonexistent/prog); rc=$?
expect "a missing command is reported" "$out" 'nonexistent/prog: No such file or directory'
expect_eq "...with status 127" "$rc" 127
out=$(rw run -- true)
expect "rewind run says where its control socket is" "$out" '^rewind: running [0-9]+; control socket /.*/[0-9]+\.sock$'
out=$(rw run -q -- sh -c 'echo "$REWIND_CONTROL"')
expect "the command gets the socket path in REWIND_CONTROL" "$out" '^/.*/[0-9]+\.sock$'

# rewind ctl without --control: the only session, or the list of them.
mkdir -p "$TMP/xdg"; chmod 700 "$TMP/xdg"
export XDG_RUNTIME_DIR=$TMP/xdg
timeout 60 "$REWIND" run -q -- sleep 30 & s1=$!
for _ in $(seq 1 100); do [ "$(ls "$TMP/xdg/rewind" 2>/dev/null | wc -l)" = 1 ] && break; sleep 0.05; done
out=$(rw ctl status)
expect "with one session running, rewind ctl finds it" "$out" '^1 processes, 0 checkpoints$'
expect_eq "its socket is in \$XDG_RUNTIME_DIR/rewind, mode 0600" \
  "$(stat -c %a "$TMP"/xdg/rewind/*.sock)" 600
expect_eq "in a directory of mode 0700" "$(stat -c %a "$TMP/xdg/rewind")" 700
timeout 60 "$REWIND" run -q -- sleep 30 & s2=$!
for _ in $(seq 1 100); do [ "$(ls "$TMP/xdg/rewind" | wc -l)" = 2 ] && break; sleep 0.05; done
out=$(rw ctl list); rc=$?
expect "with two, it lists them" "$out" '^rewind ctl: 2 sessions are running; choose one with --control:$'
expect "...naming both sockets" "$(printf '%s\n' "$out" | grep -c '\.sock$')" '^2$'
expect_eq "...and fails" "$rc" 1
one=$(ls "$TMP"/xdg/rewind/*.sock | head -1)
out=$(rw ctl --control "$one" restore 7)
expect "a missing checkpoint is an error" "$out" 'no checkpoint 7'
kill "$s1" "$s2"; wait "$s1" "$s2" 2>/dev/null
out=$(rw ctl list)
expect "without sessions it says so" "$out" 'no rewind session is running'
exit $T_FAILED
