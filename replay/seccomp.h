/* seccomp: the recorder's classic-BPF syscall filter.
 *
 * The program checks the architecture (an i386 `int $0x80` entry or an x32 number is
 * killed or trapped, by choice), lets syscalls made from one instruction range
 * through untraced (the in-process agent's own `syscall` instruction, as rr's
 * syscall buffering), then finds the syscall number in a balanced decision tree:
 * a selected syscall returns SECCOMP_RET_TRACE with a 16-bit data value (the
 * tracer sees it as the PTRACE_EVENT_SECCOMP message), every other one
 * SECCOMP_RET_ALLOW. A selected syscall may carry a skip rule on one argument
 * (e.g. mmap with MAP_ANONYMOUS runs untraced). */
#ifndef REWIND_SECCOMP_H
#define REWIND_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECCOMP_DATA_FOREIGN 0xffff   /* trace data of an i386/x32 entry (trace mode) */
#define SECCOMP_DATA_UNKNOWN 0xfffe   /* trace data of a number above every rule */

struct seccomp_rule {
	int nr;              /* syscall number, 0..1023 */
	uint16_t data;       /* SECCOMP_RET_DATA of the stop (e.g. the number or its class) */
	/* Optional skip rule: when skip_arg >= 0 and (low 32 bits of args[skip_arg] &
	 * skip_mask) == skip_value, the call is allowed untraced. */
	int skip_arg;
	uint32_t skip_mask, skip_value;
};

struct seccomp_opts {
	const struct seccomp_rule *rules;
	size_t nrules;
	/* Syscall instructions at addresses in [agent_lo, agent_hi) pass untraced; the
	 * range must not cross a 4 GiB boundary. agent_hi == 0: no such range. */
	uint64_t agent_lo, agent_hi;
	bool trace_foreign;  /* i386/x32 entries: trace them (data SECCOMP_DATA_FOREIGN)
	                        instead of killing the process */
	bool trace_unknown;  /* numbers above the highest rule and negative numbers: trace
	                        them (data SECCOMP_DATA_UNKNOWN) instead of allowing them —
	                        a newer kernel may implement what the table does not know */
};

struct seccomp_prog {
	void *insns;         /* struct sock_filter[len] */
	size_t len;
};

/* Rules for every syscall the table traps (sc_trapped_set()) and for the gaps in
 * the table, data = the number, no skip rule. Fills rules (room for SC_TABLE_SIZE
 * entries) and returns how many were written. */
size_t seccomp_rules_from_table(struct seccomp_rule *rules);

/* Build the filter program. Returns 0, or -EINVAL (a rule number out of range or
 * duplicated, an agent range crossing 4 GiB), -E2BIG (longer than BPF_MAXINSNS). */
int seccomp_build(const struct seccomp_opts *o, struct seccomp_prog *out);
void seccomp_prog_free(struct seccomp_prog *p);

/* Install p in the calling thread's process (all threads, SECCOMP_FILTER_FLAG_TSYNC)
 * after PR_SET_NO_NEW_PRIVS. Meant for the child between fork and exec (the
 * launch_spec child_setup hook): only syscalls, no allocation. Returns 0 or -errno.
 * The filter cannot be removed and survives exec. */
int seccomp_install(const struct seccomp_prog *p);

/* Install p in the process of the stopped task t (all its threads: TSYNC) by
 * injected syscalls: the program goes into a mapping made for it and unmapped after.
 * A process without no_new_privs is given it first when the kernel asks (EACCES).
 * Returns 0, -errno of the injection, or -errno of the seccomp call. */
struct target;
struct task;
int seccomp_inject(struct target *tg, struct task *t, const struct seccomp_prog *p);

#endif
