#include <stddef.h>

#include "subcmds.h"

int sh_gdbserver_main(int argc, char **argv);   /* cmd_gdb.c */
int sh_gdb_main(int argc, char **argv);         /* cmd_gdb.c */
int subcmd_record(int argc, char **argv);    /* cmd_record.c */
int subcmd_replay(int argc, char **argv);    /* cmd_record.c */
int subcmd_ls(int argc, char **argv);        /* cmd_record.c */
int subcmd_dump(int argc, char **argv);      /* cmd_record.c */
int run_main(int argc, char **argv);         /* cmd_run_ctl.c */
int ctl_main(int argc, char **argv);         /* cmd_run_ctl.c */

/* Filled as the record/replay, gdb and supervision front ends land. */
const struct subcmd subcmds[] = {
	{ "record", subcmd_record, "rewind record [-o DIR] [--chaos] [--] PROG [ARGS...] | --pid PID",
	  "record a whole run (process tree included) to disk" },
	{ "replay", subcmd_replay, "rewind replay [--autopilot] [-ex CMD]... [--batch] [DIR|NAME]",
	  "open the shell on a recording (--autopilot: replay it to the end)" },
	{ "ls", subcmd_ls, "rewind ls", "list the recordings" },
	{ "dump", subcmd_dump, "rewind dump [-n MAX] [DIR|NAME]", "print a recording's events" },
	{ "gdb", sh_gdb_main, "rewind gdb [GDB OPTIONS...] [--] PROG [ARGS...] | --replay [DIR]",
	  "start gdb connected to rewind, with the rewind plugin" },
	{ "gdbserver", sh_gdbserver_main,
	  "rewind gdbserver (--stdio | --listen [HOST]:PORT) [--] PROG [ARGS...]",
	  "serve gdb's remote protocol, reverse execution included" },
	{ "run", run_main, "rewind run [--control SOCKET] [--] COMMAND [ARGS...]",
	  "run any command (gdb, strace...) so its whole session can be checkpointed" },
	{ "ctl", ctl_main, "rewind ctl [--control SOCKET] checkpoint [NAME] | restore N|NAME | list "
	  "| delete N|NAME", "checkpoint or restore a session started with rewind run" },
	{ NULL, NULL, NULL, NULL },
};
