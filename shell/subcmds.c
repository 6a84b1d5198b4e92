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
	{ "gdbserver", sh_gdbserver_main, "rewind gdbserver (--stdio | --listen [HOST]:PORT) [--] PROG [ARGS...]" },
	{ "gdb", sh_gdb_main, "rewind gdb [GDB OPTIONS...] [--] PROG [ARGS...]" },
	{ "record", subcmd_record, "rewind record [-o DIR] [--] PROG [ARGS...]" },
	{ "replay", subcmd_replay, "rewind replay [--autopilot] [-ex CMD]... [--batch] [DIR|NAME]" },
	{ "ls", subcmd_ls, "rewind ls" },
	{ "dump", subcmd_dump, "rewind dump [-n MAX] [DIR|NAME]" },
	{ "run", run_main, "rewind run [--control SOCKET] [--] COMMAND [ARGS...]" },
	{ "ctl", ctl_main, "rewind ctl [--control SOCKET] checkpoint [NAME] | restore N|NAME | list "
	  "| delete N|NAME" },
	{ NULL, NULL, NULL },
};
