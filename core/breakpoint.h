/* breakpoint: the logical breakpoints and watchpoints of an inferior (user-visible
 * numbers, conditions, hit counts) and their mapping onto int3 sites and debug
 * registers in each traced process. Resolution of location specs is delegated to a
 * resolver callback (symbols live in core/sym). */
#ifndef REWIND_BREAKPOINT_H
#define REWIND_BREAKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"
#include "util.h"

enum bp_kind {
	BPK_BREAK,      /* software breakpoint (int3) */
	BPK_HBREAK,     /* hardware execution breakpoint */
	BPK_WATCH,      /* stop after a write that changes the value */
	BPK_RWATCH,     /* stop after a read (x86 can only watch rw; value-filtered) */
	BPK_AWATCH,     /* stop after a read or write */
};

enum bp_internal {
	BPI_NONE,       /* a user breakpoint */
	BPI_STEP_RESUME,/* return address while stepping over a call */
	BPI_FINISH,     /* return address of `finish` */
	BPI_UNTIL,      /* until/advance target */
	BPI_SOLIB,      /* dynamic loader rendezvous: libraries changed */
	BPI_STEP_INTO,  /* post-prologue address of a function stepped into */
};

struct bp_loc {
	pid_t pid;
	uint64_t addr;
	bool inserted;
	int hw_slot;        /* for hardware kinds, -1 otherwise */
	unsigned len;       /* watched bytes at addr (watchpoints), 0 otherwise */
	char *func;         /* description for `info breakpoints`, may be NULL */
	char *file;
	int line;
};

struct breakpoint {
	int id;                   /* user number (> 0); internal ones are < 0 */
	enum bp_kind kind;
	enum bp_internal internal;
	char *spec;               /* location as typed: "main", "f.c:12", "*0x401136" */
	char *cond;               /* condition expression, NULL if none */
	bool enabled;
	bool temporary;           /* tbreak: deleted at first stop */
	bool pending;             /* no location yet (library not loaded) */
	unsigned hits;
	unsigned ignore_count;
	unsigned thread;          /* only this thread number stops, 0 = any */
	uint64_t frame_cfa;       /* internal: stop only in the frame with this CFA, 0 = any */
	/* watchpoints */
	char *expr;
	uint64_t waddr;
	unsigned wlen;            /* bytes watched (1..32) */
	uint8_t old[32];
	bool old_valid;
	bool every_write;         /* BPK_WATCH: stop at every write trap, even one that left
	                             the value unchanged (the gdb server's Z2: gdb compares
	                             old and new values itself) */
	uint64_t scope_cfa;       /* watch on a local: deleted when that frame is gone, 0 = global */
	unsigned scope_thread;
	VEC(struct bp_loc) locs;
	struct breakpoint *next;
};

struct bp_table {
	struct breakpoint *list;
	int next_id;              /* next user number */
	int next_internal;        /* next internal number (negative) */
};

void bp_table_init(struct bp_table *t);
void bp_table_free(struct bp_table *t);

/* Create a breakpoint record (not inserted). internal != BPI_NONE gets a negative id. */
struct breakpoint *bp_new(struct bp_table *t, enum bp_kind kind, enum bp_internal internal);
struct breakpoint *bp_find(struct bp_table *t, int id);
/* Remove from every process and free. */
void bp_delete(struct bp_table *t, struct breakpoint *b, struct proc *procs);
void bp_add_loc(struct breakpoint *b, pid_t pid, uint64_t addr, const char *func,
		const char *file, int line);
/* A watched range piece (aligned, 1/2/4/8 bytes) for one debug register. */
void bp_add_watch_loc(struct breakpoint *b, pid_t pid, uint64_t addr, unsigned len);
void bp_clear_locs(struct breakpoint *b);

/* Put every enabled location into memory / debug registers of its process; take
 * disabled ones out. Returns 0 or the first error (logged). */
int bp_sync(struct bp_table *t, struct proc *procs);
/* Take one breakpoint's locations out (before deleting or disabling it). */
void bp_uninsert(struct breakpoint *b, struct proc *procs);
/* Forget insertion state for a process whose memory changed under us (exec, restore). */
void bp_forget_pid(struct bp_table *t, pid_t pid);

/* The user/internal breakpoints with an enabled software or hw-exec location at addr
 * in pid, in order. Returns the count, up to max. */
size_t bp_at(struct bp_table *t, pid_t pid, uint64_t addr, struct breakpoint **out, size_t max);
/* The watchpoint owning debug-register slot `slot` in pid, or NULL. */
struct breakpoint *bp_by_slot(struct bp_table *t, pid_t pid, int slot);

const char *bp_kind_name(enum bp_kind k);

#endif
