#!/usr/bin/env bash
# A whole gdb session (gdb and its inferior) checkpointed and restored under
# `rewind run`, driven from inside gdb by the plugin's `rewind session` commands:
# single-threaded and multithreaded inferiors, changed state undone by the restore,
# debugging going on afterwards, one checkpoint restored five times.
. "$(dirname "$0")/lib.sh"
need gdb
PLUGIN=$REWIND_SRC/gdbplug/rewind.py
# gdb in batch mode under rewind run, commands from a file.
rw_gdb() {
  local script=$1; shift
  timeout -k 5 120 "$REWIND" run -q -- gdb -nx -batch -x "$script" "$@" 2>&1 | grep -v '^warning: Error disabling address space'
}

cat >"$TMP/single.gdb" <<EOF
source $PLUGIN
break bump
run
print g
rewind session checkpoint at_bump
if \$_rewind_restored == 0
  set var g = 100
  next
  step
  finish
  continue
  print g
  rewind session restore at_bump
end
echo === after restore ===\n
print g
print x
print history[0]
backtrace
step
step
finish
rewind session list
continue
delete
continue
EOF
out=$(rw_gdb "$TMP/single.gdb" "$PROGS/nest_prog")
expect "the checkpoint is taken at the breakpoint" "$out" '^Checkpoint 1 \(at_bump\) taken \(2 processes'
expect "state is changed before the restore" "$out" '^\$3 = 100$'
expect_order "the restored gdb returns from its checkpoint command" "$out" \
  '^Restored checkpoint 1 of the session\.$' '^=== after restore ===$'
after=$(printf '%s\n' "$out" | sed -n '/^=== after restore ===$/,$p')
expect "print shows the value of checkpoint time" "$after" '^\$2 = 5$'
expect "the argument is that of the first call" "$after" '^\$3 = 0$'
expect "memory written after the checkpoint is undone" "$after" '^\$4 = 0$'
expect "the backtrace is that of checkpoint time" "$after" '^#1 +0x[0-9a-f]+ in main \(\) at .*nest_prog\.c:[0-9]+$'
expect "step goes into scale" "$after" '^scale \(x=0\) at .*nest_prog\.c:[0-9]+$'
expect "finish returns from it" "$after" '^Value returned is \$[0-9]+ = 0$'
expect "the session lists the checkpoint" "$after" '^1 +at_bump '
expect "the breakpoint hits again" "$after" '^Breakpoint 1, bump \(x=1\) at '
expect "the inferior ends with its own result" "$after" '^g=17 last=17$'
expect "and exits normally" "$after" 'exited normally\]$'

cat >"$TMP/threads.gdb" <<EOF
source $PLUGIN
break report
run
info threads
rewind session checkpoint
if \$_rewind_restored == 0
  set var total = 1000
  continue
  print total
  rewind session restore 1
end
echo === after restore ===\n
print total
print round
info threads
thread 3
backtrace 1
thread 1
delete
continue
EOF
out=$(rw_gdb "$TMP/threads.gdb" "$PROGS/nest_threads")
expect "five threads at the checkpoint" "$out" '^  5 +Thread 0x[0-9a-f]+ \(LWP [0-9]+\) "nest_threads" '
expect "the changed total is seen before the restore" "$out" '^\$1 = 1001$'
after=$(printf '%s\n' "$out" | sed -n '/^=== after restore ===$/,$p')
expect "the total is back" "$after" '^\$1 = 0$'
expect "the first round again" "$after" '^\$2 = 0$'
n=$(printf '%s\n' "$after" | grep -cE '^[* ] [1-5] +Thread 0x[0-9a-f]+ \(LWP [0-9]+\) "nest_threads"')
expect_eq "info threads lists the five threads again" "$n" 5
expect "a worker still waits on the barrier" "$after" '^#0 +.*futex'
expect "the program completes with every thread" "$after" '^total=6 counters=3,3,3,3$'
expect "and exits normally" "$after" 'exited normally\]$'

# One checkpoint restored five times; a counter in a file outside the session
# survives the restores.
cat >"$TMP/repeat.gdb" <<EOF
source $PLUGIN
break bump
run
rewind session checkpoint
python
import os
p = "$TMP/rounds"
n = int(open(p).read()) if os.path.exists(p) else 0
open(p, "w").write(str(n + 1))
gdb.set_convenience_variable("round", n)
end
printf "round %d: g=%d x=%d restored=%d\n", \$round, g, x, \$_rewind_restored
if \$round < 5
  set var g = g + 1000
  continue
  rewind session restore 1
end
delete
continue
EOF
out=$(rw_gdb "$TMP/repeat.gdb" "$PROGS/nest_prog")
n=$(printf '%s\n' "$out" | grep -cE '^round [0-9]: g=5 x=0 restored=')
expect_eq "the checkpoint state is seen before and after each of 5 restores" "$n" 6
expect "the fifth restore is one" "$out" '^round 5: g=5 x=0 restored=1$'
expect "after them the program runs to its end" "$out" '^g=17 last=17$'

# Vector registers: gdb's writes of the extended state go through the emulation.
out=$(timeout 120 "$REWIND" run -q -- gdb -nx -batch -ex 'break bump' -ex run \
  -ex 'set var $ymm0.v8_int32[1] = 42' -ex 'print $ymm0.v8_int32[1]' \
  -ex 'set var $zmm3.v16_int32[15] = 7' -ex 'print $zmm3.v16_int32[15]' -ex 'print $rip == $pc' \
  "$PROGS/nest_prog" 2>&1)
expect "an AVX register written by gdb reads back" "$out" '^\$1 = 42$'
if grep -q avx512f /proc/cpuinfo; then
  expect "an AVX-512 register written by gdb reads back" "$out" '^\$2 = 7$'
else
  skip "an AVX-512 register written by gdb reads back" "no AVX-512 on this CPU"
fi

# Outside a session the plugin says why it cannot work.
out=$(timeout 60 gdb -nx -batch -ex "source $PLUGIN" -ex 'rewind session list' 2>&1)
expect "rewind session needs rewind run" "$out" 'not running under `rewind run`'
exit $T_FAILED
