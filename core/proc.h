/* proc: one traced process (thread group): its tasks, its memory through
 * /proc/PID/mem, its software breakpoint sites and its debug-register slots. */
#ifndef REWIND_PROC_H
#define REWIND_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "raddr.h"
#include "task.h"
#include "util.h"

struct target;

/* A software breakpoint site: an int3 written over one byte. Refcounted: several
 * logical breakpoints (user, internal) may share a site. */
struct bpsite {
	uint64_t addr;
	uint8_t orig;
	unsigned refs;
};

enum hw_kind { HW_EXEC = 0, HW_WRITE = 1, HW_RW = 3 };

/* One debug-register slot, shared by every task of the process. */
struct hwslot {
	bool used;
	uint64_t addr;
	enum hw_kind kind;
	unsigned len;        /* 1, 2, 4 or 8 */
};

struct proc {
	pid_t pid;
	unsigned num;                /* inferior number, 1-based */
	struct target *tg;
	struct proc *next;
	struct task *tasks;
	int memfd;                   /* /proc/PID/mem, O_RDWR */
	bool dead;
	int wstatus;                 /* exit status once dead */
	bool snapshot;               /* a checkpoint: never resumed */
	bool attached;               /* attached to (not launched): detach, never kill, at the end */
	bool vfork_child;            /* shares memory with its parent until exec/exit */
	pid_t parent_pid;            /* the traced proc that forked it, 0 if none */
	bool inherited;              /* took its parent's tags, sites and hw slots (at the
	                                fork event, which may come after its first stop) */
	VEC(struct bpsite) sites;
	struct hwslot hw[4];
	unsigned hw_gen;             /* bumped when hw[] changes */
	unsigned exec_gen;           /* bumped at every exec */
	uint64_t syscall_insn;       /* address of a `syscall` instruction (for injection) */
	unsigned syscall_insn_gen;   /* exec_gen it was found in */
	void *user;                  /* upper layers (symbols, snapshot state) */
	uint32_t tags;               /* bits owned by upper layers; a fork child, a snapshot
	                                and a restored copy have those of their origin */
	/* proc_write() calls so far (memory changes made for the user: set var, inferior
	 * calls, the gdb server's M packets). The record/replay engine compares it
	 * across a stop to notice that the program's state was changed. */
	unsigned long writes;
	struct condtrap *ct;         /* an in-process conditional trap (condtrap.h), or NULL */
};

struct proc *proc_new(struct target *tg, pid_t pid);
void proc_free(struct proc *p);
/* (Re)open /proc/PID/mem; called at creation and after exec. */
int proc_open_mem(struct proc *p);

struct task *proc_task(struct proc *p, pid_t tid);
struct task *proc_add_task(struct proc *p, pid_t tid);
/* The thread-group leader, or the first live task. NULL if none. */
struct task *proc_main_task(struct proc *p);
size_t proc_live_tasks(struct proc *p);

/* Memory. _read hides inserted breakpoints (shows original bytes); _write keeps
 * them inserted (updates the saved original byte) and counts in p->writes. Raw
 * variants see the int3s.
 * Return 0 or -errno (-EIO for a partially unreadable range). */
int proc_read(struct proc *p, raddr_t a, void *buf, size_t len);
int proc_write(struct proc *p, raddr_t a, const void *buf, size_t len);
int proc_read_raw(struct proc *p, raddr_t a, void *buf, size_t len);
int proc_write_raw(struct proc *p, raddr_t a, const void *buf, size_t len);
/* Read a NUL-terminated string of at most max-1 bytes. */
int proc_read_str(struct proc *p, raddr_t a, char *buf, size_t max);

/* Software breakpoint sites. insert/remove are refcounted. */
int proc_bp_insert(struct proc *p, uint64_t addr);
int proc_bp_remove(struct proc *p, uint64_t addr);
struct bpsite *proc_bp_find(struct proc *p, uint64_t addr);
/* Take every int3 out of memory (before fork of a vfork parent, detach); sites stay. */
int proc_bp_uninstall_all(struct proc *p);
/* Copy the site table of src into p (a fork child whose memory already holds them). */
void proc_bp_clone_from(struct proc *p, const struct proc *src);
void proc_bp_forget_all(struct proc *p);

/* Debug registers: choose a free slot, set or clear it; applied to tasks lazily by
 * proc_hw_apply() before they resume. Return slot index or -errno. */
int proc_hw_set(struct proc *p, uint64_t addr, enum hw_kind kind, unsigned len);
int proc_hw_clear(struct proc *p, int slot);
int proc_hw_apply(struct proc *p, struct task *t);
/* Which slots fired: reads and clears DR6 of t. Returns bit mask of slots. */
int proc_hw_hit(struct proc *p, struct task *t, unsigned *mask);

#endif
