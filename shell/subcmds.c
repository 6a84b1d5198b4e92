#include <stddef.h>

#include "subcmds.h"

/* Filled as the record/replay, gdb and supervision front ends land. */
const struct subcmd subcmds[] = {
	{ NULL, NULL, NULL },
};
