#!/usr/bin/env bash
# Reverse execution through real gdb: `rewind gdb` (bc/bs packets, replaylog stop
# reason) against gdb's own `record full` as the oracle for what gdb prints (simple
# -O0 code, glibc kept off its AVX-512 paths, which record full cannot decode), on a
# dynamic and a static program; the start of history; the state gdb sees after
# reverse moves (registers, memory, breakpoints, threads); the plugin's and monitor's
# when / goto POSITION / last EXPR; a recording of `rewind record` under
# `rewind gdb --replay` and `rewind gdbserver --replay`; a multithreaded program.
. "$(dirname "$0")/lib.sh"
need gdb "gdb tests"
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX2_Usable,-AVX_Usable,-ERMS

loop=$PROGS/loop
prog=$PROGS/rev_prog
static=$PROGS/gdb_prog_static
gthreads=$PROGS/gdb_threads
rthreads=$PROGS/rev_threads
GDB_OPTS=(-nx -batch -iex 'set debuginfod enabled off' -iex 'set pagination off')
rgdb() {
  local c=(); while [ "$1" != -- ]; do c+=("$1"); shift; done; shift
  timeout -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" "${c[@]}" -- "$@" 2>&1 </dev/null | head -400
}
# Lines gdb prints differently through a remote target, whatever the commands did.
gnorm() {
  normalize | sed -E -e 's/^Hardware watchpoint/Watchpoint/' \
    -e '/^\[(New|Switching to) Thread /d' -e '/^\[Inferior 1 .* exited/d'
}

# oracle NAME PROG START CMD...: the same commands after `break START; run` in gdb
# (which records from there with record full) and in `rewind gdb` (recording from the
# start); what both print after the marker must be the same. The commands stay
# within what gdb recorded: not back past START, not forward past the furthest point.
oracle() {
  local name=$1 p=$2 start=$3; shift 3
  local a=() c g r
  for c in "$@"; do a+=(-ex "$c"); done
  g=$(timeout 120 gdb "${GDB_OPTS[@]}" -ex 'set can-use-hw-watchpoints 0' -ex "break $start" -ex run \
        -ex 'record full' -ex 'delete' -ex 'echo =====\n' "${a[@]}" "$p" 2>&1 </dev/null | head -400 |
      sed -n '/^=====$/,$p' | gnorm)
  r=$(rgdb -ex "break $start" -ex run -ex 'delete' -ex 'echo =====\n' "${a[@]}" -- "$p" |
      sed -n '/^=====$/,$p' | gnorm)
  if [ -n "$g" ] && [ "$g" == "$r" ]; then ok "$name"; else
    fail "$name" "$(diff <(printf '%s\n' "$g") <(printf '%s\n' "$r") | head -40 | sed 's/^</gdb   </; s/^>/rewind>/')"
  fi
}

# ---- every reverse command, as gdb's record full prints it ----
oracle "reverse-step, reverse-next, reverse-finish: into callees, out to callers" "$loop" main \
  'break bump' c c delete finish next next 'p $pc' reverse-step 'p $pc' reverse-step 'p $pc' \
  reverse-step 'p $pc' reverse-step 'p $pc' reverse-next 'p $pc' reverse-step reverse-step \
  reverse-finish 'p $pc' next 'p $pc'
oracle "reverse-continue to a breakpoint; reverse-next stops at a breakpoint on the way" "$loop" main \
  'break bump' c c c reverse-continue 'p by' reverse-next reverse-next reverse-next reverse-stepi \
  'info breakpoints'
oracle "reverse-stepi and reverse-nexti: into a return, over a call, with counts" "$loop" main \
  'break bump' c c next next next reverse-stepi reverse-stepi reverse-stepi stepi stepi \
  reverse-nexti reverse-nexti 'reverse-stepi 3' 'p $pc' 'stepi 3' 'p $pc' reverse-finish
oracle "a watchpoint going backwards stops at the write, old and new values swapped" "$loop" main \
  'watch counter' c c c reverse-continue reverse-continue reverse-stepi reverse-stepi \
  reverse-next reverse-next reverse-step reverse-step continue
oracle "recursion, reverse-finish out of callees, reverse-continue between recursive calls" "$prog" main \
  'break add' c c 'p *p' 'p v' reverse-finish 'p f' reverse-next reverse-next reverse-step 'bt' \
  reverse-step reverse-step reverse-step 'bt' 'p n' reverse-finish 'p n' 'break fact' \
  reverse-continue 'p n' reverse-continue 'p n' finish delete reverse-next reverse-next 'p b' \
  reverse-step 'p $pc' 'bt'
oracle "a static program: reverse-finish/next/step/stepi/nexti and a watchpoint" "$static" compute \
  'break square' c reverse-finish reverse-next reverse-next 'p counter' 'watch counter' \
  reverse-continue reverse-continue delete reverse-step 'p $pc' next next 'p i' stepi \
  reverse-stepi reverse-nexti 'p $pc'

# ---- the start of history: replaylog:begin ----
out=$(rgdb -ex 'break bump' -ex run -ex reverse-continue -ex 'info symbol $pc' -ex 'reverse-stepi' \
      -ex 'info registers rip' -ex stepi -ex 'p $pc != _start' -ex continue -ex 'p by' -- "$loop")
expect_order "reverse-continue with no earlier hit: the start of history, the loader's first instruction" \
  "$out" '^No more reverse-execution history\.$' '^_start in section \.text of .*ld-linux'
expect_order "reverse-stepi there stays there" "$out" '^_start in section' \
  '^No more reverse-execution history\.$' '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <_start>$'
expect_order "and forward commands go on from it" "$out" '^rip ' '^\$1 = 1$' \
  '^Breakpoint 1, bump \(by=0\)' '^\$2 = 0$'

# ---- the state gdb sees after reverse moves ----
# Registers, globals and the stack at a point, then forward, back past it, and forward
# to it again: gdb must show the same.
state='info registers rip rsp rbp rax rbx rcx rdx rsi rdi r12 r13 eflags'
out=$(rgdb -ex 'break add' -ex run -ex 'next' -ex 'echo ---A\n' -ex "$state" -ex 'p acc' -ex 'p trace' \
      -ex 'x/8gx $sp' -ex 'echo ---\n' -ex 'next' -ex 'next' -ex 'continue' -ex 'p acc' -ex 'stepi 5' \
      -ex 'reverse-stepi 5' -ex 'reverse-continue' -ex 'next' -ex 'echo ---B\n' -ex "$state" -ex 'p acc' \
      -ex 'p trace' -ex 'x/8gx $sp' -ex 'echo ---\n' -- "$prog")
pick() { printf '%s\n' "$out" | sed -n "/^---$1\$/,/^---\$/p" | sed '1d;$d' | sed 's/^\$[0-9]* = //'; }
first=$(pick A)
if [ "$(printf '%s\n' "$first" | grep -c .)" -ge 18 ]; then
  expect_eq "back at the same point: the same registers, globals and stack in gdb" "$(pick B)" "$first"
else
  fail "registers and memory shown at the point" "$out"
fi
expect "the continue in between reached the second call" "$out" '^\$[0-9]+ = \{sum = 120, count = 1\}$'

# Breakpoints stay inserted across reverse moves, forward commands honour them, and gdb
# counts every hit.
out=$(rgdb -ex 'break bump' -ex 'break loop.c:17' -ex run -ex c -ex c -ex reverse-continue -ex 'p by' \
      -ex reverse-continue -ex 'p by' -ex c -ex 'p by' -ex c -ex c -ex c -ex c -ex 'bt 1' \
      -ex reverse-continue -ex 'p by' -ex 'info breakpoints' -- "$loop")
expect_order "reverse-continue stops at each earlier hit of a breakpoint, continue at the next ones" "$out" \
  '^\$1 = 1$' '^\$2 = 0$' '^\$3 = 1$' '^Breakpoint 1, bump \(by=4\)' '^Breakpoint 2, main \(\) at .*loop\.c:17$'
expect "a reverse-continue from the last breakpoint: the one before" "$out" '^\$4 = 4$'
expect "gdb counts the hits both ways" "$out" '^	breakpoint already hit 10 times$'

# ---- the timeline commands: rewind when / goto POSITION / last, and as monitor commands ----
# save_pos.py: `rewind when`, then define `goto_saved` as `rewind goto` of that position.
cat >"$TMP/save_pos.py" <<'PY'
import re
o = gdb.execute("rewind when", to_string=True)
gdb.write(o)
m = re.search(r"\[(#[0-9]+:[0-9]+:0x[0-9a-f]+:[0-9]+:[0-9a-f]+)\]", o)
gdb.execute("define goto_saved\nrewind goto %s\nend" % (m.group(1) if m else "#nowhere"))
PY
out=$(rgdb -ex 'break add' -ex run -ex next -ex "source $TMP/save_pos.py" -ex 'p *p' -ex c -ex 'next 2' \
      -ex 'p *p' -ex goto_saved -ex 'p *p' -ex 'p $pc == add + 21 || $pc > add' -ex 'rewind when' \
      -ex c -ex 'p v' -ex 'monitor last acc.sum' -ex 'p $pc' -ex 'monitor when' -- "$prog")
expect "rewind when: the position, its id, the events, the snapshot before" "$out" \
  '^Current position: event [0-9]+, 0x[0-9a-f]+ in add \(rev_prog\.c:38\) \[#[0-9]+:[0-9]+:0x[0-9a-f]+:[0-9]+:[0-9a-f]+\]$'
expect_order "rewind goto POSITION: back to it, gdb sees the state of then" "$out" \
  '^\$2 = \{sum = 140, count = 2\}$' '^Now at add \(rev_prog\.c:38\)\.$' '^#0  add \(p=0x[0-9a-f]+ <acc>, v=120\) at .*rev_prog\.c:38$' \
  '^\$3 = \{sum = 120, count = 0\}$'
pos1=$(printf '%s\n' "$out" | grep -oE '\[#[0-9]+:[0-9]+:0x[0-9a-f]+:[0-9]+:[0-9a-f]+\]' | sed -n 1p)
pos2=$(printf '%s\n' "$out" | grep -oE '\[#[0-9]+:[0-9]+:0x[0-9a-f]+:[0-9]+:[0-9a-f]+\]' | sed -n 2p)
expect_eq "rewind when there: the same position" "$pos2" "$pos1"
expect "and the program goes on from there: the next call" "$out" '^\$5 = 20$'
expect_order "monitor last: the old and new bytes of the value" "$out" \
  '^acc\.sum was last changed by this instruction:$' '^Old bytes = 00 00 00 00 00 00 00 00$' \
  '^New bytes = 78 00 00 00 00 00 00 00$' '^\$6 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <add\+[0-9]+>$' \
  '^Current position: event'
out=$(rgdb -ex 'break fact' -ex run -ex 'rewind last counter' -ex 'rewind last acc' -ex 'rewind goto #1:2:0x3:4:5' \
      -ex 'rewind when' -- "$prog")
expect_order "rewind last: a struct's old and new value as gdb prints it, then the frame" "$out" \
  '^counter was last changed by this instruction:$' '^Old value = 6$' '^New value = 10$' \
  '^#0  0x[0-9a-f]+ in bump \(by=4\) at .*rev_prog\.c:17$'
expect "rewind last of a value never written: says so" "$out" '^acc has not changed since the start of the recording\.$'
expect "rewind goto a position of no run: an error, the program stays" "$out" '^Current position: event [0-9]+, 0x[0-9a-f]+ in bump '

# ---- a recording made with `rewind record`: rewind gdb --replay, rewind gdbserver --replay ----
rw record -o "$TMP/rec" -- "$prog" >"$TMP/rec.out" 2>&1
if [ -f "$TMP/rec/trace" ]; then
  out=$(timeout -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" -ex 'info threads' -ex 'break add' -ex c -ex 'p v' \
        -ex c -ex 'p v' -ex reverse-continue -ex 'p v' -ex 'reverse-step' -ex 'rewind last counter' \
        -ex 'delete' -ex c -ex 'break fact' -ex 'run' -ex 'p n' --replay "$TMP/rec" 2>&1 </dev/null)
  expect "rewind gdb --replay: the replay stands at its first instruction" "$out" \
    '^\* 1 +Thread [0-9]+\.[0-9]+ .* in _start \(\) from .*ld-linux'
  expect_order "breakpoints, continue and reverse-continue in the replay" "$out" \
    '^\$1 = 120$' '^\$2 = 20$' '^Breakpoint 1, add .*v=120' '^\$3 = 120$'
  expect "rewind last in the replay" "$out" '^counter was last changed by this instruction:$'
  expect_order "the replay runs to its end with the recorded output (a stop at the exit call, as under rr); run starts it again" "$out" \
    '^total=20 a=6 b=12 fact=120 sum=140 count=2$' '^No more reverse-execution history\.$' \
    ' in (__GI__exit|_exit) ' '^Breakpoint 2, fact \(n=5\)' '^\$4 = 5$'
  expect_not "run of the replay is the recording's, unchanged" "$out" 'state was changed'
  out=$(timeout -k 5 120 gdb "${GDB_OPTS[@]}" -iex 'set sysroot /' \
        -ex "target extended-remote | $REWIND gdbserver --stdio --replay $TMP/rec" -ex 'break fact' -ex c \
        -ex c -ex 'p n' -ex 'reverse-stepi' -ex 'reverse-continue' -ex 'p n' -ex 'monitor when' 2>&1 </dev/null)
  expect_order "rewind gdbserver --replay: plain gdb, forwards and backwards" "$out" \
    '^\$1 = 4$' '^Breakpoint 1, fact \(n=5\)' '^\$2 = 5$' '^Current position: event [0-9]+, 0x[0-9a-f]+ in fact '
else
  fail "rewind record makes a recording" "$(cat "$TMP/rec.out")"
fi
out=$(timeout -k 5 60 "$REWIND" gdb "${GDB_OPTS[@]}" --replay "$TMP/no-such-recording" 2>&1 </dev/null)
expect "rewind gdb --replay of no recording: gdb shows why" "$out" '^rewind replay: no recording .*no-such-recording$'

# ---- threads ----
# swapped OUT: the three watchpoint stops (continue, continue, reverse-continue) have
# the old and new values of the first two, the third the second's swapped.
swapped() {
  local o1 o2 o3 n1 n2 n3
  read -r o1 o2 o3 _ <<<"$(printf '%s\n' "$1" | sed -n 's/^Old value = //p' | tr '\n' ' ') x"
  read -r n1 n2 n3 _ <<<"$(printf '%s\n' "$1" | sed -n 's/^New value = //p' | tr '\n' ' ') x"
  [ "$n3" != x ] && [ "$o3" = "$n2" ] && [ "$n3" = "$o2" ] && [ "$o2" = "$n1" ]
}
# A reverse command the engine could not do reports its error, then a plain stop: a
# failure, told once.
engine_failed() {
  printf '%s\n' "$1" | grep -B3 -m1 -E '^Thread [0-9]+ "[^"]*" stopped\.$' | grep -m1 -iE 'replay|history|reverse'
}
# rev_threads: three workers deposit four times each under a spin lock.
out=$(rgdb -ex 'break deposit' -ex run -ex c -ex c -ex 'reverse-continue' -ex 'p v' -ex 'info threads' \
      -ex 'reverse-finish' -ex 'bt 1' -ex 'reverse-stepi' -ex 'stepi' -ex c -ex 'p v' -ex 'delete' \
      -ex 'watch -l total' -ex c -ex c -ex 'reverse-continue' -ex 'delete' -ex c -- "$rthreads")
expect "threads (spin lock): the program ends as it ran" "$out" '^total=([0-9]+) sum=\1$'
why=$(engine_failed "$out")
if [ -n "$why" ]; then
  fail "threads (spin lock): reverse-continue, reverse-finish, a watchpoint backwards" \
    "the engine's reverse execution failed in this run: $why"
else
  vs=$(printf '%s\n' "$out" | sed -n 's/.* hit Breakpoint 1, deposit (id=[0-9]*, v=\([0-9]*\)).*/\1/p' | tr '\n' ' ')
  read -r v1 v2 v3 v4 v5 _ <<<"$vs x x x x x"
  expect_eq "threads (spin lock): reverse-continue stops at the previous deposit" "$v4" "$v2"
  expect "threads (spin lock): in its thread, p v says so" "$out" "^\\\$1 = $v2\$"
  expect "threads (spin lock): reverse-finish goes back to the call in the worker" "$out" \
    '^#0  0x[0-9a-f]+ in worker \(arg=0x[0-9]\) at .*rev_threads\.c:[0-9]+$'
  expect_eq "threads (spin lock): and continue comes to that deposit again" "$v5" "$v2"
  if swapped "$out"; then ok "threads (spin lock): a watchpoint backwards, old and new value swapped"; else
    fail "threads (spin lock): a watchpoint backwards, old and new value swapped" "$out"; fi
fi
# gdb_threads: four workers meet at a barrier (threads blocked in futex waits), each
# calls report() once, then adds to sum under a mutex.
out=$(rgdb -ex 'break report' -ex run -ex c -ex c -ex 'info threads' -ex 'reverse-continue' -ex 'p id' \
      -ex 'info threads' -ex 'reverse-finish' -ex 'bt 1' -ex 'reverse-stepi' -ex 'stepi' -ex 'delete' \
      -ex 'watch -l sum' -ex c -ex c -ex 'reverse-continue' -ex 'delete' -ex c -- "$gthreads")
n=$(printf '%s\n' "$out" | grep -cE '^[ *] +[0-9]+ +Thread [0-9]+\.[0-9]+ "gdb_threads"')
expect_eq "threads: gdb lists the 5 threads before and after reverse-continue" "$n" 10
expect "threads: and the program ends as it ran" "$out" '^sum=100$'
# A reverse command the engine could not do reports its error and a plain stop.
why=$(engine_failed "$out")
if [ -n "$why" ]; then
  fail "threads: reverse-continue, reverse-finish, a watchpoint backwards" \
    "the engine's reverse execution failed in this run: $why"
else
  ids=$(printf '%s\n' "$out" | sed -n 's/.* hit Breakpoint 1, report (id=\([0-9]\).*/\1/p' | tr '\n' ' ')
  set -- $ids
  if [ $# -ge 4 ]; then
    expect_eq "threads: reverse-continue stops at the previous report, in its thread" "$4" "$2"
  else
    fail "threads: reverse-continue stops at the previous report, in its thread" "$out"
  fi
  expect "threads: reverse-finish goes back to the call in the worker" "$out" \
    '^#0  0x[0-9a-f]+ in worker \(arg=0x[0-9]\) at .*gdb_threads\.c:22$'
  if swapped "$out"; then
    ok "threads: a watchpoint backwards stops at the last write, old and new value swapped"
  else
    fail "threads: a watchpoint backwards stops at the last write, old and new value swapped" "$out"
  fi
fi
exit $T_FAILED
