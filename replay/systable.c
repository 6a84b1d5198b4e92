/* systable: lookups over the syscall table (systable_tab.c). */
#include "replay/systable.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

extern const struct sc_entry sc_table[SC_TABLE_SIZE];

const struct sc_entry *sc_get(long nr)
{
	if (nr < 0 || nr >= SC_TABLE_SIZE || !sc_table[nr].name)
		return NULL;
	return &sc_table[nr];
}

const char *sc_name(long nr)
{
	const struct sc_entry *e = sc_get(nr);
	return e ? e->name : NULL;
}

long sc_by_name(const char *name)
{
	if (!name)
		return -ENOENT;
	for (long nr = 0; nr < SC_TABLE_SIZE; nr++)
		if (sc_table[nr].name && !strcmp(sc_table[nr].name, name))
			return nr;
	return -ENOENT;
}

enum sc_class sc_class_of(long nr)
{
	const struct sc_entry *e = sc_get(nr);
	return e ? (enum sc_class)e->cls : SC_NONE;
}

const char *sc_class_name(enum sc_class c)
{
	static const char *const names[SC__NCLASS] = {
		[SC_NONE] = "none", [SC_NATIVE] = "native", [SC_INPUT] = "input",
		[SC_OUTPUT] = "output", [SC_MMAP] = "mmap", [SC_STATE] = "state",
		[SC_PROCESS] = "process", [SC_SIGNAL] = "signal",
		[SC_UNSUPPORTED] = "unsupported",
	};
	return (unsigned)c < SC__NCLASS ? names[c] : "?";
}

const char *sc_family_name(enum sc_family f)
{
	static const char *const names[SCH__COUNT] = {
		[SCH_NONE] = "none", [SCH_IOCTL] = "ioctl", [SCH_FCNTL] = "fcntl",
		[SCH_FUTEX] = "futex", [SCH_PRCTL] = "prctl", [SCH_MSGHDR] = "msghdr",
		[SCH_MMSGHDR] = "mmsghdr", [SCH_MSGRCV] = "msgrcv", [SCH_IPCCTL] = "ipcctl",
		[SCH_CAPGET] = "capget", [SCH_FHANDLE] = "fhandle",
		[SCH_XATTRARGS] = "xattrargs", [SCH_RESTART] = "restart",
	};
	return (unsigned)f < SCH__COUNT ? names[f] : "?";
}

size_t sc_trapped_set(bool out[SC_TABLE_SIZE])
{
	size_t n = 0;
	for (long nr = 0; nr < SC_TABLE_SIZE; nr++) {
		enum sc_class c = sc_class_of(nr);
		bool t = c != SC_NONE && c != SC_NATIVE;
		if (out)
			out[nr] = t;
		n += t;
	}
	return n;
}

bool sc_makes_fd(long nr, const uint64_t args[6], int64_t ret)
{
	const struct sc_entry *e = sc_get(nr);
	if (!e || ret < 0)
		return false;
	if (e->flags & SCF_NEWFD)
		return true;
	if (e->fam == SCH_FCNTL)
		return args[1] == F_DUPFD || args[1] == F_DUPFD_CLOEXEC;
	return false;
}
