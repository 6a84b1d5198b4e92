#!/usr/bin/env bash
# gdb used interactively (readline on a terminal) under `rewind run`, checkpointed
# and restored with `rewind ctl` from outside: after the restore gdb's prompt comes
# back by itself (termios restored, SIGWINCH), and debugging goes on from the
# checkpoint's state. The terminal is a pty made by python3's pty module.
. "$(dirname "$0")/lib.sh"
need gdb
need python3

cat >"$TMP/session_pty.py" <<'EOF'
import fcntl, os, pty, re, select, struct, subprocess, sys, termios, time
rewind, prog, sock = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ['TERM'] = 'xterm'
    os.execv(rewind, [rewind, 'run', '-q', '--control', sock, '--', 'gdb', '-nx', '-q', prog])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
buf = b''

def expect(pat, timeout=30):
    """Read the terminal (escape sequences dropped) up to a match; return the text."""
    global buf
    end, rx = time.time() + timeout, re.compile(pat.encode())
    while True:
        m = rx.search(buf)
        if m:
            out, buf = buf[:m.end()], buf[m.end():]
            sys.stdout.write(out.decode(errors='replace'))
            return
        left = end - time.time()
        if left <= 0:
            print('\nTIMEOUT waiting for %r after:\n%s' % (pat, buf.decode(errors='replace')))
            sys.exit(1)
        if select.select([fd], [], [], min(left, 0.2))[0]:
            try:
                d = os.read(fd, 4096)
            except OSError:
                d = b''
            if not d:
                print('\nEOF waiting for %r' % pat)
                sys.exit(1)
            buf += re.sub(rb'\x1b\[[0-9;?]*[a-zA-Z]|\r', b'', d)

def cmd(line, until=r'\(gdb\) '):
    os.write(fd, (line + '\n').encode())
    expect(until)

def ctl(*args):
    r = subprocess.run([rewind, 'ctl', '--control', sock] + list(args), capture_output=True,
                       text=True, timeout=60)
    print('\n[ctl %s -> %d: %s%s]' % (' '.join(args), r.returncode, r.stdout.strip(),
                                       r.stderr.strip()))

expect(r'\(gdb\) ')
cmd('break bump')
cmd('run', r'Breakpoint 1, bump.*\n.*\n\(gdb\) ')
ctl('checkpoint', 'at_bump')
cmd('set var g = 100')
cmd('continue', r'Breakpoint 1, bump.*\n.*\n\(gdb\) ')
cmd('print g')
ctl('restore', 'at_bump')
print('\n[waiting for the prompt to be redrawn]')
expect(r'\(gdb\) ', 10)
print('\n[prompt redrawn]')
cmd('print g')
cmd('print x')
cmd('info threads')
cmd('next')
cmd('continue', r'Breakpoint 1, bump.*\n.*\n\(gdb\) ')
cmd('delete 1')
ctl('restore', 'at_bump')
expect(r'\(gdb\) ', 10)
print('\n[restored again]')
cmd('print g')
cmd('info breakpoints')
cmd('delete 1')
cmd('continue', r'exited normally.*\n\(gdb\) ')
os.write(fd, b'quit\n')
_, status = os.waitpid(pid, 0)
print('\n[rewind run exited %d]' % os.waitstatus_to_exitcode(status))
EOF
out=$(timeout -k 5 180 python3 "$TMP/session_pty.py" "$REWIND" "$PROGS/nest_prog" "$TMP/ctl.sock" 2>&1)
expect "gdb runs on the terminal under rewind run" "$out" '^Breakpoint 1, bump \(x=0\) at '
expect "rewind ctl checkpoints the interactive session" "$out" '^\[ctl checkpoint at_bump -> 0: checkpoint 1 \(at_bump\) taken'
expect "the state changes before the restore" "$out" '^\$1 = 100$'
expect "rewind ctl restores it" "$out" '^\[ctl restore at_bump -> 0: restored checkpoint 1 \(at_bump\)'
expect "gdb's prompt comes back after the restore" "$out" '^\[prompt redrawn\]$'
after=$(printf '%s\n' "$out" | sed -n '/^\[prompt redrawn\]$/,$p')
expect "print shows the value of checkpoint time" "$after" '^\$1 = 5$'
expect "and the argument of the first call" "$after" '^\$2 = 0$'
expect "info threads shows the restored thread" "$after" '^\* 1 +Thread 0x[0-9a-f]+ \(LWP [0-9]+\) "nest_prog" bump \(x=0\)'
expect "next steps in the restored program" "$after" '^16	'
expect "the breakpoint hits again" "$after" '^Breakpoint 1, bump \(x=1\)'
again=$(printf '%s\n' "$out" | sed -n '/^\[restored again\]$/,$p')
expect "a second restore of the same checkpoint works" "$again" '^\$1 = 5$'
expect "gdb's own state is that of checkpoint time (the deleted breakpoint is back)" \
  "$again" '^1 +breakpoint +keep y +0x[0-9a-f]+ in bump'
expect "the program then runs to its end" "$after" '^g=17 last=17$'
expect "and exits normally" "$after" 'exited normally\]$'
expect "gdb quits and rewind run ends" "$after" '^\[rewind run exited 0\]$'
exit $T_FAILED
