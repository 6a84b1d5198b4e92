#!/usr/bin/env bash
# The gdb session's life: the rewind plugin (checkpoint, change state, restart, gdb
# shows the restored values, when/goto/last), monitor commands, reverse execution
# with and without a recording, detach and kill, attach, and gdb dying with SIGKILL (the program must not
# be left stopped: killed, or running on with --detach-on-exit).
. "$(dirname "$0")/lib.sh"
need gdb "gdb tests"

P=$PROGS/gdb_prog
GDB_OPTS=(-nx -batch -iex 'set debuginfod enabled off' -iex 'set pagination off')
rgdb() {
  local c=(); while [ "$1" != -- ]; do c+=("$1"); shift; done; shift
  timeout -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" "${c[@]}" -- "$@" 2>&1 </dev/null
}
# state PID: the process's state letter (R S D T t Z), or "gone".
state() { sed -n 's/^State:\s*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true; }
gone_or() { local s; s=$(state "$1"); echo "${s:-gone}"; }
# wait_until SECONDS CMD...: poll until CMD succeeds.
wait_until() {
  local n=$(( $1 * 10 )); shift
  for ((k = 0; k < n; k++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# ---- the plugin: checkpoint, change, restart ----
out=$(rgdb -ex 'break square' -ex run -ex 'rewind checkpoint before' -ex 'print counter' \
      -ex 'set var counter = 1000' -ex 'set var origin.x = 77' -ex finish -ex 'print counter' \
      -ex 'rewind checkpoints' -ex 'rewind restart before' -ex 'print counter' -ex 'print origin' \
      -ex 'print x' -ex 'bt' -ex 'rewind bookmark here' -ex 'rewind delete before' \
      -ex 'rewind checkpoints' -ex 'rewind when' -ex 'rewind goto 3' -ex 'rewind last counter' \
      -ex 'print counter' -ex continue -ex delete -ex continue -- "$P")
expect "rewind checkpoint takes a checkpoint where the program stands" "$out" '^Checkpoint [0-9]+ "before" at square \(gdb_prog\.c:36\)$'
expect "the program changed: gdb sees the new value" "$out" '^\$3 = 1000$'
expect "rewind checkpoints lists it" "$out" '^  [0-9]+ +before +square \(gdb_prog\.c:36\)'
expect_order "restart brings the old values back, and gdb shows them" "$out" \
  '^Switching to checkpoint [0-9]+ "before"\.$' '^#0  square \(x=7\) at .*gdb_prog\.c:36$' \
  '^\$4 = 6$' '^\$5 = \{x = 3, y = 4\}$' '^\$6 = 7$'
expect "the backtrace is the restored one" "$out" '^#1  0x[0-9a-f]+ in compute \(n=4\) at .*gdb_prog\.c:68$'
expect "bookmark names the state" "$out" '^Checkpoint [0-9]+ "here" at square \(gdb_prog\.c:36\)$'
expect_not "delete removed the checkpoint" "$(printf '%s\n' "$out" | sed -n '/bookmark/,$p' | sed -n '/Id   Name/,/Checkpoint memory/p')" ' before '
expect "rewind when: the position in the recording" "$out" \
  '^Current position: event [0-9]+, 0x[0-9a-f]+ in square \(gdb_prog\.c:36\) \[#[0-9]+:[0-9]+:0x[0-9a-f]+:[0-9]+:[0-9a-f]+\]$'
expect "rewind goto N restarts checkpoint N" "$out" '^Switching to checkpoint 3\.$'
expect_order "rewind last: back to the last change of counter, old and new value, the frame" "$out" \
  '^counter was last changed by this instruction:$' '^Old value = 3$' '^New value = 6$' \
  '^#0  0x[0-9a-f]+ in compute \(n=4\) at .*gdb_prog\.c:66$' '^\$7 = 3$'
expect "the restored program runs to the end with its old values" "$out" '^result=68 counter=6 usr1=0$'

out=$(rgdb -ex 'break square' -ex run -ex 'monitor checkpoint a' -ex finish -ex 'monitor restart a' \
      -ex 'print x' -ex 'print $pc == square + 7 || $pc == square + 8' -- "$P")
expect "a bare monitor restart: the plugin makes gdb reread the registers" "$out" '^\$2 = 7$'

out=$(rgdb -ex 'rewind restart 1' -ex 'help rewind' -ex 'rewind bogus' -ex 'monitor help' \
      -ex 'monitor no-such-command' -- "$P")
expect "restart before run says why" "$out" '^No checkpoint 1\.$'
expect "help rewind lists the commands" "$out" '^rewind restart N\|NAME +go back \(or forward\) to a checkpoint$'
expect "an unknown rewind command is an error" "$out" '^Undefined rewind command: "bogus"\.'
expect "monitor help lists the server's commands" "$out" '^  info checkpoints +list the checkpoints$'
expect "an unknown monitor command says so" "$out" '^Undefined monitor command: "no-such-command"\.'

# ---- reverse execution without a recording ----
out=$(rgdb --no-record -ex 'break square' -ex run -ex reverse-stepi -ex reverse-continue -ex 'print x' -- "$P")
expect "reverse execution stops at once: no history yet" "$out" '^No more reverse-execution history\.$'
expect "and the program stays where it was" "$out" '^\$1 = 7$'
# ---- with the recording (the default), reverse moves ----
out=$(rgdb -ex 'break square' -ex run -ex reverse-stepi -ex reverse-continue -- "$P")
expect "reverse-stepi goes back one instruction, into the prologue" "$out" '^0x[0-9a-f]+\s+35\s+\{$'
expect "reverse-continue without breakpoints runs back to the start" "$out" '^No more reverse-execution history\.$'

# ---- kill and detach ----
out=$(rgdb -ex 'break compute' -ex run -ex 'python print("pid", gdb.selected_inferior().pid)' \
      -ex kill -ex 'info inferiors' -- "$P")
pid=$(printf '%s\n' "$out" | sed -n 's/^pid \([0-9]*\)$/\1/p')
expect "kill reports the end of the process" "$out" "^\[Inferior 1 \(process $pid\) killed\]$"
expect_eq "the killed process is gone" "$(gone_or "$pid")" gone

# Without recording: a recorded program keeps the recording's seccomp filter, whose
# system calls fail once no tracer is left (the server warns on detach).
out=$(timeout -k 5 120 "$REWIND" gdb --no-record "${GDB_OPTS[@]}" -ex 'break compute' -ex run \
      -ex 'python print("pid", gdb.selected_inferior().pid)' -ex detach -- "$P" sleep 2>&1 </dev/null)
pid=$(printf '%s\n' "$out" | sed -n 's/^pid \([0-9]*\)$/\1/p')
expect "detach reports it" "$out" "^\[Inferior 1 \(process $pid\) detached\]$"
st=$(gone_or "$pid")
if [ "$st" = S ] || [ "$st" = R ]; then ok "the detached process runs on (state $st)"; else fail "the detached process runs on" "state: $st"; fi
[ -n "$pid" ] && kill "$pid" 2>/dev/null

# ---- attach ----
"$P" sleep >/dev/null 2>&1 &
victim=$!
sleep 0.3
out=$(timeout -k 5 120 "$REWIND" gdb "${GDB_OPTS[@]}" --attach "$victim" -ex 'bt' -ex 'print origin' \
      -ex 'print counter' -ex detach 2>&1 </dev/null)
expect "attach: gdb finds the program's symbols and stack" "$out" ' in main \(argc=2, argv=0x[0-9a-f]+\) at .*gdb_prog\.c:[0-9]+$'
expect "attach: globals read" "$out" '^\$1 = \{x = 3, y = 71\}$'
expect "attach: detach at the end" "$out" "^\[Inferior 1 \(process $victim\) detached\]$"
st=$(gone_or "$victim")
if [ "$st" = S ] || [ "$st" = R ]; then ok "the attached process runs on (state $st)"; else fail "the attached process runs on" "state: $st"; fi
kill "$victim" 2>/dev/null
# gdb's own attach command (vAttach) in a `rewind gdb` session.
"$P" sleep >/dev/null 2>&1 &
victim=$!
sleep 0.3
out=$(rgdb -ex "attach $victim" -ex 'print counter' -ex detach -- "$P")
expect "attach PID from gdb: the program's state" "$out" '^\$1 = 6$'
expect "and its detach" "$out" "^\[Inferior 1 \(process $victim\) detached\]\$"
kill "$victim" 2>/dev/null

# ---- gdb killed with SIGKILL ----
# sigkill_gdb SERVER_OPTS...: gdb (its server started with these options) stops the
# program at compute, writes the pid, and is killed; prints the program's pid.
sigkill_gdb() {
  local pidf=$TMP/pid.$RANDOM
  timeout -k 5 120 gdb "${GDB_OPTS[@]}" -iex 'set sysroot /' \
    -ex "target extended-remote | $REWIND gdbserver --stdio $* -- $P sleep" \
    -ex 'break compute' -ex 'run' \
    -ex "python open('$pidf', 'w').write(str(gdb.selected_inferior().pid))" \
    -ex 'shell sleep 100' --args "$P" sleep >/dev/null 2>&1 </dev/null &
  local g=$!
  wait_until 60 test -s "$pidf" || true
  local p; p=$(cat "$pidf" 2>/dev/null)
  # The gdb itself, not timeout: the first child of timeout that is gdb.
  pkill -KILL -P "$g" -x gdb
  wait "$g" 2>/dev/null
  echo "$p"
}
pid=$(sigkill_gdb)
if [ -z "$pid" ]; then fail "gdb killed: the program was started" ""; else
  wait_until 20 test "$(gone_or "$pid")" = gone
  expect_eq "gdb killed with SIGKILL: the program is killed, not left stopped" "$(gone_or "$pid")" gone
fi
pid=$(sigkill_gdb --detach-on-exit)
if [ -z "$pid" ]; then fail "gdb killed (--detach-on-exit): the program was started" ""; else
  wait_until 20 test "$(gone_or "$pid")" = S
  st=$(gone_or "$pid")
  if [ "$st" = S ] || [ "$st" = R ]; then ok "gdb killed, --detach-on-exit: the program runs on (state $st)"; else
    fail "gdb killed, --detach-on-exit: the program runs on" "state: $st"; fi
  kill "$pid" 2>/dev/null
fi
# ... and while the program runs (the poller sees gdb go and interrupts the run).
pidf=$TMP/pid.run
timeout -k 5 120 gdb "${GDB_OPTS[@]}" -iex 'set sysroot /' \
  -ex "target extended-remote | $REWIND gdbserver --stdio --multi -- $P spin" \
  -ex 'break compute' -ex run \
  -ex "python open('$pidf', 'w').write(str(gdb.selected_inferior().pid))" \
  -ex 'delete' -ex continue --args "$P" spin >/dev/null 2>&1 </dev/null &
g=$!
wait_until 60 test -s "$pidf" || true
pid=$(cat "$pidf" 2>/dev/null)
sleep 1
# Running: the recorder stops it briefly now and then (time slices, timeline
# snapshots), so a single look may catch it stopped (t); within 5 s it must be seen R
# (2 s was once too short on a loaded 2-CPU machine). The verdict is the look that
# saw R: another look after it catches one of those stops a few times in a hundred.
seen_running() { st=$(gone_or "$pid"); [ "$st" = R ]; }
wait_until 5 seen_running || true
if [ "$st" = R ]; then ok "the program spins under gdb"; else fail "the program spins under gdb" "state: $st"; fi
pkill -KILL -P "$g" -x gdb
wait "$g" 2>/dev/null
wait_until 20 test "$(gone_or "$pid")" = gone
expect_eq "gdb killed while the program runs: the program is killed" "$(gone_or "$pid")" gone
# In a terminal (script gives gdb a pty), the program writes to it directly, as under
# gdb alone: its line-buffered output comes before gdb's report of the next stop.
if command -v script >/dev/null 2>&1; then
  out=$(timeout -k 5 120 script -qec "$REWIND gdb -nx -batch -ex 'break compute' -ex run \
        -ex continue -- $P" /dev/null 2>&1 </dev/null | tr -d '\r')
  expect_order "in a terminal: the program's output, then gdb's stop" "$out" \
    '^hello from gdb_prog$' '^Breakpoint 1, compute \(n=4\)' '^result=68 counter=6 usr1=0$'
else
  skip "in a terminal: the program's output, then gdb's stop" "script (util-linux) is not installed"
fi
exit $T_FAILED
