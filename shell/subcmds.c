#include <stddef.h>

#include "subcmds.h"

int gdbserver_main(int argc, char **argv);   /* cmd_gdb.c */
int gdb_main(int argc, char **argv);         /* cmd_gdb.c */

/* Filled as the record/replay, gdb and supervision front ends land. */
const struct subcmd subcmds[] = {
	{ "gdbserver", gdbserver_main, "rewind gdbserver (--stdio | --listen [HOST]:PORT) [--] PROG [ARGS...]" },
	{ "gdb", gdb_main, "rewind gdb [GDB OPTIONS...] [--] PROG [ARGS...]" },
	{ NULL, NULL, NULL },
};
