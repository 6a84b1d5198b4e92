#!/usr/bin/env bash
# The shell on a terminal: readline completion (commands, symbols, subcommands),
# Ctrl-C while the program runs, an empty line repeating next, the history file.
. "$(dirname "$0")/lib.sh"
need python3

out=$(python3 - "$REWIND" "$PROGS/spin" "$PROGS/loop" <<'PY'
import os, pty, select, sys, time
rewind, spin, loop = sys.argv[1:4]

def session(prog, steps):
    pid, fd = pty.fork()
    if pid == 0:
        os.closerange(3, 1024)   # a login terminal hands over only 0, 1, 2
        os.execv(rewind, ['rewind', 'shell', prog])
    out = b''
    def read_for(t):
        nonlocal out
        end = time.time() + t
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return
    read_for(1.0)
    for data, wait in steps:
        os.write(fd, data)
        read_for(wait)
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass
    return out.decode(errors='replace').replace('\x1b[?2004h', '').replace('\x1b[?2004l', '').replace('\r', '')

print(session(spin, [(b'run\n', 1.5), (b'\x03', 1.5), (b'print spins > 0\n', 0.8),
                     (b'continue\n', 1.0), (b'\x03', 1.5), (b'quit\n', 0.5)]))
print('=====')
print(session(loop, [(b'brea bu\t\n', 0.8), (b'run\n', 1.5), (b'next\n', 0.8), (b'\n', 0.8),
                     (b'info thre\t\n', 0.8), (b'quit\n', 0.5)]))
PY
)
first=${out%%=====*}; second=${out#*=====}
expect "Ctrl-C stops the running program" "$first" '^Program received signal SIGINT, Interrupt\.'
expect "the program can be examined after Ctrl-C" "$first" '^\$1 = 1'
n=$(printf '%s\n' "$first" | grep -c '^Program received signal SIGINT')
expect_eq "Ctrl-C works again after continue" "$n" 2
expect "a symbol completes after an abbreviated command" "$second" 'brea bump ?$'
expect "the breakpoint is set through the completed line" "$second" '^Breakpoint 1 at 0x[0-9a-f]+: file .*loop\.c, line 8\.'
expect_order "an empty line repeats next" "$second" '^8	' '^9	' '^10	'
expect "info subcommands complete" "$second" 'info threads ?$'
if grep -qx 'run' "$HOME/.rewind_history" 2>/dev/null; then ok "commands are kept in ~/.rewind_history"
else fail "commands are kept in ~/.rewind_history" "$(cat "$HOME/.rewind_history" 2>&1)"; fi
