/* Subcommands other than `shell` (record, replay, gdbserver, run, ctl...). */
#ifndef REWIND_SUBCMDS_H
#define REWIND_SUBCMDS_H

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

extern const struct subcmd subcmds[];

#endif
