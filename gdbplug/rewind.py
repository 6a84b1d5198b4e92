# rewind's gdb plugin: checkpoints and the timeline as gdb commands.
#
# Loaded by `rewind gdb` (or by hand: `source .../rewind.py` in a gdb connected to
# `rewind gdbserver`). Each command wraps a monitor command of the server and prints
# its answer; `rewind restart` also makes gdb forget what it cached about the program
# (registers, frames, memory, threads) and shows where the program now is.
import re

import gdb


def _monitor(cmd):
    """Run `monitor CMD` on the rewind server; return what it printed."""
    try:
        return gdb.execute("monitor " + cmd, to_string=True)
    except gdb.error as e:
        raise gdb.GdbError("rewind: %s (is gdb connected to `rewind gdbserver`?)" % e)


def _say(text):
    if text:
        gdb.write(text if text.endswith("\n") else text + "\n")


def _server_thread():
    """The LWP the server considers current (after a restore), or None."""
    try:
        out = gdb.execute("maintenance packet qC", to_string=True)
    except gdb.error:
        return None
    m = re.search(r'received: "QC(?:p[0-9a-f]+\.)?([0-9a-f]+)"', out)
    return int(m.group(1), 16) if m else None


def flush_caches():
    """Make gdb forget the registers, frames and memory it cached."""
    for cmd in ("maintenance flush register-cache", "maintenance flush dcache"):
        try:
            gdb.execute(cmd, to_string=True)
        except gdb.error:
            if cmd.endswith("register-cache"):
                gdb.execute("flushregs", to_string=True)   # gdb before 11


def refresh():
    """The program changed under gdb (a checkpoint was restored): drop gdb's caches,
    reread the thread list, select the server's current thread, show the frame."""
    flush_caches()
    gdb.execute("info threads", to_string=True)            # updates the thread list
    lwp = _server_thread()
    inf = gdb.selected_inferior()
    for t in inf.threads():
        if lwp is not None and t.ptid[1] == lwp:
            t.switch()
            break
    gdb.execute("frame")


class Rewind(gdb.Command):
    """rewind: checkpoints and time travel for the program under `rewind gdb`.

rewind checkpoint [NAME]   checkpoint the program now
rewind bookmark NAME       name the current state
rewind checkpoints         list the checkpoints
rewind restart N|NAME      go back (or forward) to a checkpoint
rewind delete N|NAME...    drop checkpoints
rewind when                the current position in the recording
rewind goto POSITION       go to a position in the recording
rewind last EXPR           go to where EXPR last changed

A checkpoint is taken automatically at every stop that ends a continue.
gdb's reverse-step, reverse-next and reverse-continue need a recording."""

    def __init__(self):
        super().__init__("rewind", gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE, True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError('Undefined rewind command: "%s".  Try "help rewind".' % arg.strip())
        gdb.execute("help rewind")


class _Wrapped(gdb.Command):
    monitor = None     # the server's command
    args = "none"      # "none", "optional", "required"
    usage = None

    def __init__(self, name):
        super().__init__("rewind " + name, gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if self.args == "none" and arg:
            raise gdb.GdbError("Usage: %s" % self.usage)
        if self.args == "required" and not arg:
            raise gdb.GdbError("Usage: %s" % self.usage)
        out = _monitor(self.monitor + (" " + arg if arg else ""))
        _say(out)
        self.after(out)

    def after(self, out):
        pass


class Checkpoint(_Wrapped):
    """Checkpoint the program now: rewind checkpoint [NAME].
The checkpoint can be returned to with "rewind restart N" (or NAME)."""
    monitor, args, usage = "checkpoint", "optional", "rewind checkpoint [NAME]"


class Bookmark(_Wrapped):
    """Name the current state: rewind bookmark NAME.
Names the automatic checkpoint of this stop, or takes one."""
    monitor, args, usage = "bookmark", "required", "rewind bookmark NAME"


class Checkpoints(_Wrapped):
    """List the checkpoints: number, name, where, age and memory of each."""
    monitor, args, usage = "info checkpoints", "none", "rewind checkpoints"


class Restart(_Wrapped):
    """Go back (or forward) to a checkpoint: rewind restart N|NAME.
The program becomes what it was then (memory, registers, threads, files' offsets);
gdb's view of it is refreshed and the current frame shown."""
    monitor, args, usage = "restart", "required", "rewind restart N|NAME"

    def after(self, out):
        if out.startswith("Switching to checkpoint"):
            refresh()


class Delete(_Wrapped):
    """Drop checkpoints: rewind delete N|NAME..."""
    monitor, args, usage = "delete checkpoint", "required", "rewind delete N|NAME..."


class When(_Wrapped):
    """Show the current position in the recording (needs a recording).
Prints the position's id (for "rewind goto"), the number of recorded events and the
nearest snapshots before and after."""
    monitor, args, usage = "when", "none", "rewind when"


class Goto(_Wrapped):
    """Go to a position in the recording: rewind goto POSITION|N|NAME.
POSITION is an id as "rewind when" prints it ([#event:thread:pc:k:hash]); a checkpoint
number or name restarts that checkpoint. gdb's view is refreshed and the frame shown."""
    monitor, args, usage = "goto", "required", "rewind goto POSITION|N|NAME"

    def after(self, out):
        if out.startswith("Now at ") or out.startswith("Switching to checkpoint"):
            refresh()


class Last(_Wrapped):
    """Go back to the last change of EXPR: rewind last EXPR (needs a recording).
The program stops at the instruction that wrote it, before the write; the old and
new values are shown, then the frame. EXPR is evaluated in the selected thread's
innermost frame."""
    monitor, args, usage = "last", "required", "rewind last EXPR"

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not arg:
            raise gdb.GdbError("Usage: %s" % self.usage)
        try:
            typ = gdb.parse_and_eval(arg).type    # its type here, before the program moves
        except gdb.error:
            typ = None
        out = _monitor("last " + arg)
        # The server gives the values as bytes: print them as gdb prints a watchpoint's.
        out = re.sub(r"^(Old|New) bytes = ([0-9a-f ]*)$",
                     lambda m: "%s value = %s" % (m.group(1), _as_value(m.group(2), typ)),
                     out, flags=re.M)
        _say(out)
        if " was last changed by this instruction:" in out:
            refresh()


def _as_value(hexbytes, typ):
    """The bytes (hex, in memory order) as gdb prints a value of type typ."""
    data = bytes.fromhex(hexbytes)
    if typ is None or typ.sizeof > len(data):
        return "<%s>" % (hexbytes or "no bytes")
    try:
        gdb.set_convenience_variable("_rewind_value", gdb.Value(data[:typ.sizeof], typ))
        return gdb.execute("output $_rewind_value", to_string=True)
    except gdb.error as e:
        return "<%s>" % e


class FlushCaches(gdb.Command):
    """Make gdb forget the registers, frames and memory it cached from the program.
Runs after every "monitor" command, so that a bare "monitor restart N" is safe."""

    def __init__(self):
        super().__init__("rewind flush-caches", gdb.COMMAND_MAINTENANCE, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        flush_caches()


def _hook_monitor():
    """After `monitor ...` (a restart may have changed the program), flush gdb's caches;
    an existing user hook is left alone."""
    try:
        if gdb.execute("show user hookpost-monitor", to_string=True).strip():
            return
    except gdb.error:
        pass
    gdb.execute("define hookpost-monitor\nrewind flush-caches\nend")


Rewind()
FlushCaches()
Checkpoint("checkpoint")
Bookmark("bookmark")
Checkpoints("checkpoints")
Restart("restart")
Delete("delete")
When("when")
Goto("goto")
Last("last")


# ---- rewind session: checkpoints of a whole `rewind run` session, gdb included ----
#
# Under `rewind run -- gdb ...` the session's control socket is $REWIND_CONTROL. A
# checkpoint taken from here holds gdb itself, blocked in this command: after each
# restore of it, the restored gdb returns from `rewind session checkpoint` again,
# with $_rewind_restored set to 1 (0 the first time) — as fork() returns twice.
import os
import socket


def _session(request):
    """Send one request to the session; returns (status, text)."""
    path = os.environ.get("REWIND_CONTROL")
    if not path:
        raise gdb.GdbError("rewind session: gdb is not running under `rewind run` "
                           "($REWIND_CONTROL is not set)")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind("")                   # an autobound address for the answer
        s.connect(path)
        s.send(("REWIND1 %d %s" % (os.getpid(), request)).encode())
        while True:
            status, _, text = s.recv(65536).decode(errors="replace").partition(" ")
            if status in ("ok", "error", "restored"):
                return status, text
    except OSError as e:
        raise gdb.GdbError("rewind session: %s: %s" % (path, e))
    finally:
        s.close()


def _session_set(restored, ckpt):
    gdb.set_convenience_variable("_rewind_restored", restored)
    if ckpt is not None:
        gdb.set_convenience_variable("_rewind_checkpoint", ckpt)


class RewindSession(gdb.Command):
    """rewind session: checkpoints of the whole `rewind run` session (gdb included).

rewind session checkpoint [NAME]   checkpoint every process of the session
rewind session restore N|NAME      go back to a checkpoint (this gdb is replaced)
rewind session list                list the checkpoints
rewind session delete N|NAME       drop a checkpoint
rewind session status              processes and emulated ptrace links

After a restore, gdb is the one of checkpoint time: it returns from its
`rewind session checkpoint` command with $_rewind_restored = 1."""

    def __init__(self):
        super().__init__("rewind session", gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE, True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError('Undefined rewind session command: "%s".  '
                               'Try "help rewind session".' % arg.strip())
        gdb.execute("help rewind session")


class _SessionCmd(gdb.Command):
    request = None
    args = "none"
    usage = None

    def __init__(self, name):
        super().__init__("rewind session " + name, gdb.COMMAND_RUNNING, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if (self.args == "none" and arg) or (self.args == "required" and not arg):
            raise gdb.GdbError("Usage: %s" % self.usage)
        status, text = _session(self.request + (" " + arg if arg else ""))
        if status == "error":
            raise gdb.GdbError("rewind session: " + text)
        self.done(status, text)

    def done(self, status, text):
        _say(text)


class SessionCheckpoint(_SessionCmd):
    """Checkpoint every process of the session: rewind session checkpoint [NAME].
Sets $_rewind_checkpoint to its number and $_rewind_restored to 0; when the
checkpoint is restored, this command returns again with $_rewind_restored = 1."""
    request, args, usage = "checkpoint", "optional", "rewind session checkpoint [NAME]"

    def done(self, status, text):
        m = re.match(r"(?:checkpoint )?(\d+)", text)
        ckpt = int(m.group(1)) if m else None
        if status == "restored":
            _say("Restored checkpoint %s of the session." % (ckpt if ckpt else text))
            _session_set(1, ckpt)
        else:
            _say(text[0].upper() + text[1:] + "." if text else text)
            _session_set(0, ckpt)


class SessionRestore(_SessionCmd):
    """Go back to a checkpoint of the session: rewind session restore N|NAME.
Every process is replaced by its checkpoint, this gdb too: the gdb of checkpoint
time carries on from where it was then."""
    request, args, usage = "restore", "required", "rewind session restore N|NAME"


class SessionList(_SessionCmd):
    """List the checkpoints of the session."""
    request, args, usage = "list", "none", "rewind session list"


class SessionDelete(_SessionCmd):
    """Drop a checkpoint of the session: rewind session delete N|NAME."""
    request, args, usage = "delete", "required", "rewind session delete N|NAME"


class SessionStatus(_SessionCmd):
    """Processes of the session and the ptrace links rewind emulates."""
    request, args, usage = "status", "none", "rewind session status"


RewindSession()
SessionCheckpoint("checkpoint")
SessionRestore("restore")
SessionList("list")
SessionDelete("delete")
SessionStatus("status")
_hook_monitor()
