/* Subcommands other than `shell` (record, replay, gdbserver, run, ctl...). */
#ifndef REWIND_SUBCMDS_H
#define REWIND_SUBCMDS_H

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *what;   /* one line for `rewind help` */
};

extern const struct subcmd subcmds[];

struct session;
struct rec_loaded;
/* Load recording name (a directory or a name under the default root; NULL: the
 * latest) into s for replay; its program, arguments, environment and directory become
 * the ones the next launch uses. Returns 0, or an exit status with the error printed
 * (cmd_record.c). */
int replay_load(struct session *s, const char *name, struct rec_loaded *L, char **dirp);

#endif
