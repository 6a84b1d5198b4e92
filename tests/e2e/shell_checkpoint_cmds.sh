#!/usr/bin/env bash
# Checkpoint commands through the shell: refusal of unrestorable resources and
# `checkpoint -f` with its mark; a program that dies while a checkpoint is taken and a
# checkpoint process killed from outside (the shell is driven through a pipe then, so
# the test can act between commands); set auto-checkpoint; set checkpoint-memory
# thinning (named checkpoints kept); branches after a restore.
. "$(dirname "$0")/lib.sh"

after_restore() { printf '%s\n' "$1" | sed -n '/^Switching to checkpoint/,$p'; }

# ---- unrestorable resources: refused, -f takes it, info checkpoints marks it ----
prog=$PROGS/snap_unrestorable
out=$(rw_shell -ex 'set record off' -ex run -ex 'checkpoint' -ex 'checkpoint -f forced' \
  -ex 'info checkpoints' -ex continue -ex 'restart forced' -ex continue -ex continue "$prog")
expect_order "checkpoint names each unrestorable resource and refuses" "$out" \
  ': TCP socket to 127\.0\.0\.1:[0-9]+; it cannot be restored live' ': eventfd;' \
  ': epoll instance;' ': timerfd;' ': signalfd;' ': device /dev/kmsg' \
  '^checkpoint: refused; "checkpoint -f" takes it anyway'
expect "checkpoint -f takes it" "$out" '^Checkpoint [0-9]+ "forced" at main \(snap_unrestorable\.c'
expect "info checkpoints marks it" "$out" \
  '^\* [0-9]+ +forced .*\[forced: not all resources restorable\]'
expect_order "the forced checkpoint restores and the program goes on with the live resources" \
  "$(after_restore "$out")" '^eventfd\+epoll usable' '^tcp usable' '^done' 'exited normally'

# ---- driving the shell through a pipe ----
# sh_start PROG ARGS: the shell reads commands from a FIFO; its output goes to $TMP/sh.out.
sh_start() {
  rm -f "$TMP/sh.in"; mkfifo "$TMP/sh.in"
  timeout -k 5 120 "$REWIND" shell "$@" <"$TMP/sh.in" >"$TMP/sh.out" 2>&1 &
  SH_PID=$!
  exec 7>"$TMP/sh.in"
  SH_SEQ=0
}
# sh_do CMD...: run commands, wait until they are done (an echo after them shows up).
sh_do() {
  local c
  for c in "$@"; do printf '%s\n' "$c" >&7; done
  SH_SEQ=$((SH_SEQ + 1))
  printf 'echo @@%d\\n\n' "$SH_SEQ" >&7
  for _ in $(seq 300); do
    grep -aq "^@@$SH_SEQ\$" "$TMP/sh.out" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
sh_stop() { printf 'kill\nquit\n' >&7; exec 7>&-; wait "$SH_PID" 2>/dev/null; }
# The checkpoint processes: rewind's traced children that are not the program's pids.
ckpt_pids() {
  local p
  for p in $(ps -o pid= --ppid "$(pgrep -P "$SH_PID" -x rewind || echo "$SH_PID")" | tr -d ' '); do
    printf '%s\n' "$@" | grep -qx "$p" && continue
    [ "$(ps -o stat= -p "$p" | cut -c1)" = t ] && echo "$p"
  done
}

# ---- a program that dies while a checkpoint is being taken ----
prog=$PROGS/snap_tree
sh_start "$prog"
sh_do 'set record off' run 'checkpoint good' 'info inferiors'
kid=$(grep -aoE 'process [0-9]+ +\(child' "$TMP/sh.out" | head -1 | grep -oE '[0-9]+')
if [ -n "$kid" ] && kill -9 "$kid"; then
  sh_do 'checkpoint bad' 'info checkpoints' 'restart good' continue continue
  out=$(cat "$TMP/sh.out")
  expect "checkpoint says the process died while it was taken" "$out" \
    "pid $kid exited while the checkpoint was being taken"
  expect_not "no checkpoint is made of a dying program" "$out" '"bad"'
  expect_order "the earlier checkpoint brings the whole tree back" "$(after_restore "$out")" \
    '^child counted 200 lines' '^parent: child reported 200' 'SIGTRAP' '^parent done'
else
  fail "found the child of snap_tree to kill" "$(cat "$TMP/sh.out")"
fi
sh_stop

# ---- a checkpoint process killed from outside ----
prog=$PROGS/snap_regs
sh_start "$prog"
sh_do 'set record off' 'set auto-checkpoint off' run 'print counter' 'info inferiors'
pid=$(grep -aoE '^\* +[0-9]+ +process [0-9]+' "$TMP/sh.out" | grep -oE '[0-9]+$')
sh_do 'checkpoint one'
ck1=$(ckpt_pids "$pid")
sh_do 'checkpoint two'
ck2=$(ckpt_pids "$pid" | grep -vxF "$ck1")
if [ -n "$ck1" ] && [ -n "$ck2" ] && [ "$(echo "$ck1" | wc -l)" = 1 ] && kill -9 "$ck1"; then
  sleep 0.2
  sh_do 'info checkpoints' 'restart one' 'restart two' 'print counter' continue continue continue
  out=$(cat "$TMP/sh.out")
  expect "info checkpoints marks the killed one" "$out" '^ +[0-9]+ +one .*\[gone: its process was killed\]'
  expect "restoring it gives a clear error" "$out" \
    "the checkpoint process of pid $pid \(pid $ck1\) is gone \(killed from outside\?\); this checkpoint cannot be restored"
  expect_order "the other checkpoint still restores" "$(after_restore "$out")" \
    '^Switching to checkpoint [0-9]+ "two"' '^\$2 = 100$' '^vectors ok' '^memory ok' \
    '^done counter=203' 'exited normally'
else
  fail "found the checkpoint processes (got '$ck1' and '$ck2')" "$(cat "$TMP/sh.out")"
fi
sh_stop

# ---- set auto-checkpoint: a checkpoint at every stop; off: none ----
prog=$PROGS/loop
out=$(rw_shell -ex 'set record off' -ex 'break bump' -ex run -ex next -ex continue \
  -ex 'info checkpoints' -ex 'restart 1' -ex 'print by' -ex 'restart 3' -ex 'print by' \
  -ex 'set auto-checkpoint off' -ex continue -ex continue -ex 'info checkpoints' "$prog")
expect_order "auto-checkpoint takes one at every stop" "$out" \
  '^  1 +\(auto\) +bump \(loop\.c' '^  2 +\(auto\) +bump \(loop\.c' '^\* 3 +\(auto\) +bump \(loop\.c' \
  '^Checkpoint memory'
expect_order "each automatic checkpoint restores its stop" "$out" '^Switching to checkpoint 1\.' \
  '^\$1 = 0$' '^Switching to checkpoint 3\.' '^\$2 = 1$'
last_list=$(printf '%s\n' "$out" | awk '/^  Id   Name/ {buf=""} {buf = buf $0 "\n"} END {printf "%s", buf}')
expect_not "with auto-checkpoint off no more are taken" "$last_list" '^[* ] +[4-9] '

# within_budget NAME LISTING KIB: `info checkpoints` says the total is at most KIB KiB.
within_budget() {
  local total
  total=$(printf '%s\n' "$2" | grep -oE "^Checkpoint memory: [0-9.]+ KiB of $3\\.0 KiB budget" | grep -oE '[0-9.]+' | head -1)
  if [ -n "$total" ] && awk -v t="$total" -v b="$3" 'BEGIN { exit !(t <= b) }'; then
    ok "$1 ($total KiB)"
  else
    fail "$1" "$2"
  fi
}

# ---- set checkpoint-memory: old automatic checkpoints thinned, named ones kept ----
# Twelve stops of loop hold about 40 KiB each; the budget is about half of that.
# (Compaction off: with it, they would fit; see below.)
prog=$PROGS/loop
args=(-ex 'set record off' -ex 'set checkpoint-compact off' -ex 'break bump' -ex run -ex 'bookmark first')
for _ in $(seq 11); do args+=(-ex stepi); done
args+=(-ex 'info checkpoints' -ex 'set checkpoint-memory 250K' -ex 'info checkpoints'
       -ex 'restart first' -ex 'print by')
out=$(rw_shell "${args[@]}" "$prog")
before=$(printf '%s\n' "$out" | awk '/^  Id   Name/ {n++} n==1' | grep -cE '^[* ] +[0-9]+ ')
after=$(printf '%s\n' "$out" | awk '/^  Id   Name/ {n++} n==2' | grep -cE '^[* ] +[0-9]+ ')
if [ "$before" -ge 10 ] && [ "$after" -lt "$before" ] && [ "$after" -ge 2 ]; then
  ok "checkpoint-memory thins automatic checkpoints ($before -> $after)"
else
  fail "checkpoint-memory thins automatic checkpoints ($before -> $after)" "$out"
fi
kept=$(printf '%s\n' "$out" | awk '/^  Id   Name/ {n++} n==2')
expect "the named checkpoint is kept" "$kept" '^ +1 +first '
expect "the newest checkpoint is kept" "$kept" '^\* +[0-9]+ +\(auto\)'
within_budget "the total is within the budget" "$kept" 250
expect_order "the named one still restores" "$out" '^Switching to checkpoint 1 "first"\.' '^\$1 = 0$'

# ---- the same with compaction (set checkpoint-compact auto, the default): over the
# budget, old automatic checkpoints become the pages they differ in from the next one
# (a few KiB) instead of processes (page tables: ~40 KiB), and none has to go ----
if [ "$(id -u)" != 0 ]; then
  skip "over the budget, automatic checkpoints are compacted" "needs CAP_SYS_ADMIN (page frame numbers)"
else
  # Stops: bump(0) (named), bump(1..4), then six stepi.
  args=(-ex 'set record off' -ex 'break bump' -ex run -ex 'bookmark first')
  for _ in 1 2 3 4; do args+=(-ex continue); done
  for _ in $(seq 6); do args+=(-ex stepi); done
  args+=(-ex 'info checkpoints' -ex 'set checkpoint-memory 300K' -ex 'info checkpoints'
         -ex 'restart 4' -ex 'print by' -ex 'print counter' -ex 'info registers rip'
         -ex 'restart 2' -ex 'print by' -ex 'print counter' -ex 'delete' -ex 'continue')
  out=$(rw_shell "${args[@]}" "$prog")
  before=$(printf '%s
' "$out" | awk '/^  Id   Name/ {n++} n==1' | grep -cE '^[* ] +[0-9]+ ')
  kept=$(printf '%s
' "$out" | awk '/^  Id   Name/ {n++} n==2')
  after=$(printf '%s
' "$kept" | grep -cE '^[* ] +[0-9]+ ')
  compacted=$(printf '%s
' "$kept" | grep -cE '^[* ] +[0-9]+ +\(auto\).*\(compacted\)$')
  if [ "$before" -ge 10 ] && [ "$after" = "$before" ] && [ "$compacted" -ge 4 ]; then
    ok "over the budget, automatic checkpoints are compacted, none dropped ($after kept, $compacted compacted)"
  else
    fail "over the budget, automatic checkpoints are compacted ($before -> $after, $compacted compacted)" "$out"
  fi
  expect "the named one and the two newest stay processes" "$kept" '^ +1 +first +bump \(loop\.c:8\) +[0-9.]+s +[0-9.]+ KiB$'
  within_budget "compacted, the total is within the budget" "$kept" 300
  # Checkpoint N (N >= 2) is the stop at bump(N - 1): counter is 0, 1, 3, 6 then.
  expect "checkpoint 2 is compacted" "$kept" '^ +2 +\(auto\) .*\(compacted\)$'
  expect "checkpoint 4 is compacted" "$kept" '^ +4 +\(auto\) .*\(compacted\)$'
  expect_order "compacted checkpoints restore: memory, registers, then the program runs on" "$out" \
    '^Switching to checkpoint 4\.' '^\$1 = 3$' '^\$2 = 3$' '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <bump\+[0-9]+>' \
    '^Switching to checkpoint 2\.' '^\$3 = 1$' '^\$4 = 0$' '^total=20 counter=10$' 'exited normally'
fi

# ---- branches: continuing after a restore starts a new branch; the old future stays ----
prog=$PROGS/loop
out=$(rw_shell -ex 'set record off' -ex 'set auto-checkpoint off' -ex 'break bump' -ex run \
  -ex 'checkpoint start' -ex continue -ex continue -ex 'checkpoint future' \
  -ex 'restart start' -ex 'set var counter = 100' -ex continue -ex 'print counter' \
  -ex 'checkpoint branch' -ex 'restart future' -ex 'print counter' \
  -ex 'restart branch' -ex 'print counter' -ex 'info checkpoints' "$prog")
expect_order "a new branch and the old future are both restorable" "$out" \
  '^Switching to checkpoint 1 "start"' '^\$1 = 100$' \
  '^Switching to checkpoint 2 "future"' '^\$2 = 1$' \
  '^Switching to checkpoint 3 "branch"' '^\$3 = 100$'

exit $T_FAILED
