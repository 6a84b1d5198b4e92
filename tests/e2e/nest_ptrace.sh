#!/usr/bin/env bash
# The ptrace and wait API under `rewind run`, where rewind is the only real tracer
# and all of it is emulated, is what the kernel gives natively: tests/progs/
# nest_ptrace checks itself (TRACEME/ATTACH/SEIZE, INTERRUPT/LISTEN, syscall info,
# single-steps, watchpoints, regsets, siginfo, EXITKILL, waits) and prints a
# transcript without pids, which must be the same both ways.
. "$(dirname "$0")/lib.sh"
# lib.sh's expect pipes into `grep -q` under pipefail: when grep stops reading at an
# early match, printf's SIGPIPE fails the check. Here-strings have no such race.
expect() { if grep -qE -- "$3" <<<"$2"; then ok "$1"; else fail "$1" "expected /$3/ in:
$2"; fi; }
expect_not() { if grep -qE -- "$3" <<<"$2"; then fail "$1" "did not expect /$3/ in:
$2"; else ok "$1"; fi; }
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
exit $T_FAILED
