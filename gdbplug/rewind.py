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


def refresh():
    """The program changed under gdb (a checkpoint was restored): drop gdb's caches,
    reread the thread list, select the server's current thread, show the frame."""
    for cmd in ("maintenance flush register-cache", "maintenance flush dcache"):
        try:
            gdb.execute(cmd, to_string=True)
        except gdb.error:
            if cmd.endswith("register-cache"):
                gdb.execute("flushregs", to_string=True)   # gdb before 11
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
    """Show the current position in the recording (needs a recording)."""
    monitor, args, usage = "when", "none", "rewind when"


class Goto(_Wrapped):
    """Go to a position in the recording: rewind goto POSITION (needs a recording)."""
    monitor, args, usage = "goto", "required", "rewind goto POSITION"

    def after(self, out):
        if not out.startswith("goto needs a recording"):
            refresh()


class Last(_Wrapped):
    """Go to where EXPR last changed: rewind last EXPR (needs a recording)."""
    monitor, args, usage = "last", "required", "rewind last EXPR"

    def after(self, out):
        if not out.startswith("last needs a recording"):
            refresh()


Rewind()
Checkpoint("checkpoint")
Bookmark("bookmark")
Checkpoints("checkpoints")
Restart("restart")
Delete("delete")
When("when")
Goto("goto")
Last("last")
