#!/usr/bin/env bash
# rewind record --until-fail N [--chaos]: records runs until one fails (non-zero exit
# or a fatal signal), keeps that one, deletes the passing ones, says how to replay.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/rr_nondet

# rr_nondet flaky loses updates (exit 1) only when a thread is preempted inside its
# loop: with --chaos's random time slices, some runs fail and some pass.
out=$(rw record --chaos --until-fail 40 -o "$TMP/uf" "$prog" flaky </dev/null)
rc=$?
expect_eq "the kept run is a failing one: its exit status" "$rc" 1
expect "it says which run failed" "$out" '^rewind: run [0-9]+ failed \(exit status 1\); the passing runs were deleted$'
expect "and how to replay it" "$out" "^rewind: replay it with: rewind replay $TMP/uf\$"
expect "its output is the failing one" "$out" '^counter 1[0-9]{3} of 2000$'
runs=$(printf '%s\n' "$out" | grep -cE '^rewind: run [0-9]+ of at most 40$')
if [ "$runs" -gt 1 ]; then ok "runs before it were recorded and passed ($((runs - 1)))"
else skip "runs before it were recorded and passed" "the first run failed"; fi
rep=$(rw replay --autopilot "$TMP/uf" </dev/null)
rc=$?
expect_eq "the kept recording replays the failure: exit status" "$rc" 1
expect "... output" "$rep" "^$(printf '%s\n' "$out" | grep -E '^counter ')\$"
expect "... memory" "$rep" '^rewind: memory at exit: [0-9a-f]+ \(as recorded\)$'

# Under the default root: one recording kept, the passing ones gone.
out=$(rw record --chaos --until-fail 40 "$prog" flaky </dev/null)
root=$XDG_DATA_HOME/rewind
n=$(find "$root" -mindepth 1 -maxdepth 1 -type d | wc -l)
expect_eq "default root: only the failing recording is left" "$n" 1
expect "default root: latest is the failing one" "$(readlink "$root/latest")" \
  "^$(basename "$(printf '%s\n' "$out" | sed -n 's/^rewind: replay it with: rewind replay //p')")\$"

# A program that never fails: nothing kept, exit status 0.
rm -rf "$root"
out=$(rw record --until-fail 3 "$prog" time </dev/null)
rc=$?
expect_eq "no failure: exit status 0" "$rc" 0
expect "no failure: says so" "$out" '^rewind: no failure in 3 runs; no recording kept$'
n=$(find "$root" -mindepth 1 -maxdepth 1 | wc -l)
expect_eq "no failure: no recording and no dangling latest left" "$n" 0

out=$(rw record --until-fail x "$prog" time)
expect "--until-fail wants a number" "$out" 'until-fail wants a number of runs'
exit $T_FAILED
