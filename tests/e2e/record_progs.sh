#!/usr/bin/env bash
# Every debuggee in tests/progs is also a record/replay test: record it with
# `rewind record`, replay it with `rewind replay --autopilot`, and compare the output,
# the exit status and the memory checksum at exit; the recorded run must also end as
# the program ends natively (recording must not change what it does).
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d /tmp/rewind-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/work"

# Arguments, for the programs that need some.
declare -A ARGS=(
  [snap_files]=$TMP/work [snap_shm]=$TMP/work [snap_signals]=$TMP/work
  [rr_ticker]=5 [nest_forker]="3 9" [rr_nondet]=time
)
# Programs left out, and why (each is printed as a skip).
declare -A LEFT_OUT=(
  [spin]="runs until interrupted"
  [nest_ptrace]="traces other processes: rewind record refuses (checked below), rewind run debugs it"
)

for path in "$PROGS"/*; do
  p=$(basename "$path")
  [ -f "$path" ] && [ -x "$path" ] || continue
  case $p in *.so|*.so.*) continue ;; esac
  if [ -n "${LEFT_OUT[$p]:-}" ]; then skip "$p: record and replay" "${LEFT_OUT[$p]}"; continue; fi
  # shellcheck disable=SC2086
  (cd "$TMP/work" && timeout -k 5 30 "$path" ${ARGS[$p]:-} </dev/null >"$TMP/$p.nat" 2>&1)
  rc_n=$?
  # shellcheck disable=SC2086
  (cd "$TMP/work" && timeout -k 5 60 "$REWIND" record -o "$TMP/rec.$p" -- "$path" ${ARGS[$p]:-} \
     </dev/null >"$TMP/$p.rec" 2>"$TMP/$p.recerr")
  rc_r=$?
  (cd "$TMP/work" && timeout -k 5 60 "$REWIND" replay --autopilot "$TMP/rec.$p" \
     </dev/null >"$TMP/$p.rep" 2>"$TMP/$p.reperr")
  rc_p=$?
  expect_eq "$p: recorded, it exits as it does natively" "$rc_r" "$rc_n"
  if [ "$rc_p" = "$rc_r" ] && cmp -s "$TMP/$p.rec" "$TMP/$p.rep"; then
    ok "$p: the replay prints what the recording printed and exits the same ($rc_r)"
  else
    fail "$p: the replay prints what the recording printed and exits the same ($rc_r)" \
      "replay exit $rc_p; $(diff "$TMP/$p.rec" "$TMP/$p.rep" | head -10)
$(tail -5 "$TMP/$p.reperr")"
  fi
  if grep -q 'memory at exit' "$TMP/$p.recerr"; then
    expect "$p: its memory at exit is as recorded" "$(cat "$TMP/$p.reperr")" \
      'memory at exit: [0-9a-f]+ \(as recorded\)'
  fi
done

# A tracer cannot be recorded (rewind is the tracer of the whole tree): the recording
# stops at the program's first ptrace call and says why, rather than hang.
(cd "$TMP/work" && timeout -k 5 30 "$REWIND" record -o "$TMP/rec.tracer" -- "$PROGS/nest_ptrace" \
   </dev/null >/dev/null 2>"$TMP/tracer.err")
rc=$?
stopped=$([ "$rc" != 0 ] && [ "$rc" != 124 ] && echo stopped || echo "exit $rc")
expect_eq "nest_ptrace: rewind record stops (no hang) with a failure status" "$stopped" stopped
expect "nest_ptrace: rewind record says why it stopped" "$(cat "$TMP/tracer.err")" \
  'calls ptrace \(request 0\): a program that traces cannot be recorded'
