#!/usr/bin/env bash
# The shell in batch mode: running, breakpoints, stepping, exit reporting —
# compared with gdb on the same program wherever gdb does the same thing.
. "$(dirname "$0")/lib.sh"
loop=$PROGS/loop

gdb_compare "break/run/next/step sequence matches gdb" "$loop" \
  -ex 'break bump' -ex run -ex next -ex next -ex step -ex step -ex step

gdb_compare "stepi/nexti print addresses as gdb" "$loop" \
  -ex 'break bump' -ex run -ex stepi -ex stepi -ex nexti -ex 'info registers rip'

gdb_compare "disassemble matches gdb" "$loop" -ex 'break main' -ex run -ex disassemble

gdb_compare "x command formats" "$loop" -ex 'break bump' -ex run \
  -ex 'x/4xw &counter' -ex 'x/3i $pc' -ex 'x/8xb $pc' -ex 'x/2dw &counter'

gdb_compare "info breakpoints with hit counts" "$loop" \
  -ex 'break bump' -ex 'tbreak main' -ex run -ex continue -ex continue -ex 'info breakpoints'

gdb_compare "exit code reported as gdb does" "$loop" -ex run

out=$(rw_shell -ex run -- /bin/sh -c 'exit 3')
expect "exit code in octal like gdb" "$out" '^\[Inferior 1 \(process [0-9]+\) exited with code 03\]$'

out=$(rw_shell -ex 'frobnicate' -ex 'info frobs' -ex 'break' "$loop"); rc=$?
expect "unknown command is named" "$out" 'Undefined command: "frobnicate".  Try "help".'
expect "unknown info subcommand is named" "$out" 'Undefined info command: "frobs".'
expect "break without a process explains" "$out" 'No default breakpoint location now selected.'
expect_eq "batch exit status 1 after a failed command" "$rc" 1

out=$(rw_shell -ex 'break bump' -ex run -ex continue -ex 'delete 1' -ex continue "$loop"); rc=$?
expect_order "delete then continue runs to the end" "$out" 'Breakpoint 1, bump' 'Breakpoint 1, bump' 'total=20 counter=10' 'exited normally'
expect_eq "batch exit status 0 when every command worked" "$rc" 0

out=$(rw_shell -ex 'break nosuchfunction' "$loop")
expect "break on an unknown function says so" "$out" 'Function "nosuchfunction" not defined.'

out=$(rw_shell -ex 'break loop.c:16' -ex run -ex 'continue 3' -ex 'info breakpoints' "$loop")
expect "continue N ignores the breakpoint N-1 times" "$out" 'Will ignore next 2 crossings of breakpoint 1.'
expect "hits counted across ignores" "$out" 'breakpoint already hit 4 times'

out=$(rw_shell -ex run -- "$REWIND_BUILD/nonexistent-program")
expect "missing program is reported" "$out" 'No such file or directory'

# A breakpoint on the very instruction that writes a watched variable: stepping off
# the breakpoint must still report the watchpoint.
store=$(rw_shell -ex 'break main' -ex run -ex 'disassemble bump' "$loop" | grep -E 'mov +%eax,0x[0-9a-f]+\(%rip\) +# 0x[0-9a-f]+ <counter>' | head -1 | grep -oE '0x[0-9a-f]{16}' | head -1)
if [ -z "$store" ]; then fail "found the store to counter in bump" "disassembly had no store"; else
  out=$(rw_shell -ex "break *$store" -ex run -ex 'watch counter' -ex continue -ex continue "$loop")
  expect_order "the write done while stepping off a breakpoint is reported" "$out" \
    '^Breakpoint 1, ' 'Hardware watchpoint 2: counter' '^Old value = 0$' '^New value = 1$'
fi

# ---- the command line ----
out=$("$REWIND" help 2>&1)
for c in shell record replay ls dump gdb gdbserver run ctl; do
  expect "rewind help lists rewind $c" "$out" "^  rewind $c( |\$)"
done
out=$("$REWIND" record --help 2>&1); rc=$?
expect "rewind record --help prints its usage" "$out" '^usage: rewind record '
expect_eq "...and succeeds" "$rc" 0
out=$("$REWIND" frobnicate 2>&1); rc=$?
expect "an unknown subcommand is named" "$out" '^rewind: unknown command "frobnicate"$'
expect_eq "...with status 2" "$rc" 2

# ---- break *FUNC and *FUNC+N, before the program runs (as gdb) ----
out=$(rw_shell -ex 'break *bump' -ex 'break *bump+4' -ex 'break *nosuch' -ex run -ex 'p $pc == bump' -ex continue \
  -ex 'p $pc == (char *)bump + 4' "$loop")
expect "break *FUNC is the function's entry" "$out" '^Breakpoint 1 at 0x[0-9a-f]+: file .*loop\.c, line 7\.$'
expect "break *FUNC+N" "$out" '^Breakpoint 2 at 0x[0-9a-f]+: file .*loop\.c, line 7\.$'
expect "break *NOSUCH names it" "$out" '^No symbol "nosuch" in current context\.$'
expect_order "both stop where they say" "$out" '^Breakpoint 1, bump \(by=0\)' '^\$1 = 1$' '^Breakpoint 2, ' '^\$2 = 1$'

# ---- break LINE before the program runs: a line of the program's file, not of the
# file current at run (the dynamic loader's) ----
out=$(rw_shell -ex 'break 17' -ex run -ex 'info breakpoints' "$loop")
expect "break LINE before run stops at that line of the program" "$out" \
  '^Breakpoint 1, main \(\) at .*loop\.c:17$'

# ---- watch EXPR if COND: the condition decides, forwards and backwards ----
out=$(rw_shell -ex 'break loop.c:17' -ex run -ex 'watch counter if counter == 3' -ex reverse-continue \
  -ex 'p counter' -ex reverse-continue -ex 'delete' -ex 'watch counter if counter == 6' -ex continue \
  -ex 'p counter' "$loop")
expect_order "watch if COND backwards: the write that made it true (old and new swapped)" "$out" \
  '^Old value = 3$' '^New value = 1$' '^\$1 = 1$' '^No more reverse-execution history\.$'
expect_order "watch if COND forwards: the write that makes it true" "$out" \
  '^Old value = 3$' '^New value = 6$' '^\$2 = 6$'
