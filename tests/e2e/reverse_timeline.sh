#!/usr/bin/env bash
# Automatic timeline snapshots during a long forward run: several are taken, thinned
# (dense near the current point, sparse far back, far fewer than one per tick), and
# reverse-stepi at the end of the run replays from the newest one.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/rev_bench

# About 0.5 s of CPU (4 rounds), stopped after it in done().
out=$(REWIND_LOG=replay:debug rw_shell -ex 'break done' -ex run -ex 'info timeline' \
  -ex 'echo =====\n' -ex reverse-stepi -ex 'info registers rip' -- "$prog" cpu 4 50000000)
tl=$(printf '%s\n' "$out" | sed -n '/^  Point  Event/,/^=====$/p')
# CPU ms of the tick snapshots, in execution order, and of the current point.
ticks=$(printf '%s\n' "$tl" | awk '$4 == "tick" {print $3}')
now=$(printf '%s\n' "$tl" | awk '$1 == "*" {print $4}')
n=$(printf '%s\n' "$ticks" | grep -c . || true)
if [ "$n" -ge 3 ] && [ -n "$now" ]; then
  ok "a long run leaves timeline snapshots ($n)"
  # Ticks come every 15 ms or more of running: 0.5 s unthinned would leave 30 or more.
  last=$(printf '%s\n' "$ticks" | tail -1)
  if [ "$n" -le $(( ${now%.*} / 15 / 2 + 2 )) ]; then ok "they are thinned ($n for ${now} ms)"; else
    fail "they are thinned ($n for ${now} ms)" "$tl"; fi
  # Gaps grow going back: the newest gap is smaller than the oldest.
  gaps=$(printf '%s\n' "$ticks" | awk 'NR > 1 {print $1 - p} {p = $1}')
  g_old=$(printf '%s\n' "$gaps" | head -1)
  g_new=$(printf '%s\n' "$gaps" | tail -1)
  if awk -v a="$g_new" -v b="$g_old" 'BEGIN { exit !(a < b) }'; then
    ok "dense near now, sparse far back (newest gap $g_new ms, oldest $g_old ms)"
  else
    fail "dense near now, sparse far back (newest gap $g_new ms, oldest $g_old ms)" "$tl"
  fi
  if awk -v a="$last" -v b="$now" 'BEGIN { exit !(b - a < 100) }'; then
    ok "the newest is close to the end of the run ($last of $now ms)"
  else
    fail "the newest is close to the end of the run ($last of $now ms)" "$tl"
  fi
else
  fail "a long run leaves timeline snapshots" "$out"
fi
after=$(printf '%s\n' "$out" | sed -n '/^=====$/,$p')
expect "reverse-stepi at the end: one instruction back, in done's prologue" "$after" \
  '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <done\+[0-9]+>'
# The replays start from the newest snapshot before the stop, not from further back.
newest=$(printf '%s\n' "$tl" | awk '$1 != "*" && $5 ~ /^t[0-9]+$/ {s = substr($5, 2)} END {print s}')
# (later restores may use a snapshot that replay took on its way, a newer one).
used=$(printf '%s\n' "$after" | grep -oE 'checkpoint -[0-9]+: recording from' | grep -oE '[0-9]+' | head -1)
if [ -n "$newest" ] && [ "$used" = "$newest" ]; then ok "reverse-stepi replays from the newest snapshot (t$newest)"
else fail "reverse-stepi replays from the newest snapshot (t$newest; first restored: t$used)" "$out"; fi

exit $T_FAILED
