/* Internals shared by infcall.c, infcall_lower.c, infcall_direct.c and
 * infcall_agent.c. Not for other modules. */
#ifndef REWIND_INFCALL_INT_H
#define REWIND_INFCALL_INT_H

#include <sys/user.h>

#include "agent/agent_abi.h"
#include "infcall.h"

/* Arguments rewind accepts in one call (the agent's own limit). */
#define ICL_MAX_ARGS 64u
/* Largest aggregate passed or returned by value. */
#define ICL_MAX_AGG (64u * 1024u)

/* Bytes passed by reference, at most in one call. */
#define ICL_MAX_REFS (1u << 20)

/* A checked, promoted argument list: variadic arguments promoted into own storage;
 * by-reference arguments get their address there once the scratch is laid out
 * (v[i].copy_len stays set, v[i].data then points at the address). */
struct icl_args {
	struct infcall_arg v[ICL_MAX_ARGS];
	const void *ref[ICL_MAX_ARGS];   /* by-reference bytes (v[i].copy_len of them) */
	uint8_t promoted[ICL_MAX_ARGS][8];
	size_t n;
	size_t refs_len;                 /* scratch the references need (16-aligned each) */
};

/* Check that ty can be passed (as_return: returned) by value. Returns 0 or -EINVAL
 * with err saying why. */
int icl_check(const struct infcall_type *ty, bool as_return, struct sbuf *err);

/* Check every argument and the return type, and apply the default argument
 * promotions to the variadic part. Returns 0 or -EINVAL (err says which). */
int icl_prepare(const struct infcall_fn *fn, const struct infcall_arg *args, size_t nargs,
		struct icl_args *out, struct sbuf *err);

/* Whether ty is a scalar the direct path can put in a register. */
bool icl_direct_ok(const struct infcall_type *ty);

/* Bytes the agent (libffi) may read or write for a value of type ty: its size
 * rounded up to 16, at least 16. */
size_t icl_buf_size(const struct infcall_type *ty);

/* The agent's type table for one call. */
struct icl_tables {
	VEC(struct rwagent_type) types;
	VEC(uint32_t) elems;
	uint32_t ret;
	uint32_t args[ICL_MAX_ARGS];
	size_t nargs;
};

/* Lower the (checked) return type and arguments into the agent's tables. Returns 0
 * or -EINVAL (a limit of the agent), err saying why. */
int icl_lower(const struct infcall_type *ret, const struct icl_args *a, struct icl_tables *tb,
	      struct sbuf *err);
void icl_tables_free(struct icl_tables *tb);

/* ---- the call in progress (infcall.c, infcall_run.c) ---- */

typedef VEC(struct tev) tevvec;

/* One call in progress: what to put back and how it is going. */
struct call {
	struct inferior *inf;
	struct target *tg;
	struct task *t;
	struct proc *p;
	const struct infcall_fn *fn;
	struct infcall_outcome *out;
	struct sbuf *err;
	bool agent;
	struct rwagent_info info;
	/* the thread as it was */
	struct user_regs_struct regs;
	uint8_t *xs;
	size_t xlen;
	uint64_t mask;
	int pending_sig;
	siginfo_t si;
	bool stepover;
	int last_ev, status;
	enum resume_mode last_resume;
	bool saved;
	/* scratch memory [lo, hi) and its original contents; by-reference arguments
	 * in [top, hi), the call's own layout below top */
	uint64_t lo, top, hi;
	uint8_t *orig;
	uint64_t call_sp;     /* agent: rsp at the entry; direct: the return-address slot */
	uint64_t desc, res;   /* agent: descriptor and result buffer */
	uint64_t ret_site;    /* direct: the int3 the function returns onto */
	bool site_in;
	/* while it runs */
	uint64_t stepoff;     /* int3 of t being stepped off, 0 if none */
	bool interrupted;
	tevvec before, kept;  /* the event queue as it was; events kept for later */
	VEC(struct task *) released;  /* children to run at their first stop */
};

/* Resume only c->t and wait until the call is over. Returns 0 (c->out->end says
 * how it ended) or -errno (the thread stays stopped, err says why). */
int icr_run(struct call *c);
/* Put back the int3 that c->t was being stepped off, if any. */
void icr_end_stepoff(struct call *c);

/* ---- the agent in a process (infcall_agent.c) ---- */

/* The agent's entry points in p, when it is loaded and initialised. Returns 1
 * (found, *info filled), 0 (not loaded), -EAGAIN (loaded, constructor not run
 * yet), -EPROTO (another version), other -errno. */
int ica_find(struct proc *p, struct rwagent_info *info);

/* Whether p runs without a dynamic loader (a static program). */
bool ica_is_static(struct proc *p);

/* The program's entry point (AT_ENTRY), 0 if unknown. */
uint64_t ica_entry_point(struct proc *p);

/* ---- direct calls (infcall_direct.c) ---- */

/* Registers and stack words for a direct SysV call. */
struct icd_frame {
	uint64_t gpr[6];          /* rdi rsi rdx rcx r8 r9 */
	uint8_t xmm[8][16];       /* xmm0-7 */
	unsigned ngpr, nsse;
	uint64_t stack[ICL_MAX_ARGS];  /* arguments passed in memory, in order */
	unsigned nstack;
};

/* Whether the direct path can make the call. Returns 0 or -ENOTSUP (err says which
 * type, completing "needs the rewind agent, which" with no_agent, e.g. "cannot be
 * loaded into a static program"). */
int icd_check(const struct icl_args *a, const struct infcall_type *ret, const char *no_agent,
	      struct sbuf *err);
/* Assign the (checked) arguments to registers and stack slots. */
void icd_build(const struct icl_args *a, struct icd_frame *f);

/* Load f into a copy of the registers and the extended state for the call. */
void icd_load(const struct icd_frame *f, struct user_regs_struct *r, uint8_t *xs, size_t xlen);

/* The result of a returned direct call from the registers and extended state. */
void icd_result(const struct infcall_type *ret, const struct user_regs_struct *r,
		const uint8_t *xs, size_t xlen, uint8_t *result);

/* Give the call an ABI-clean floating-point state: empty x87 stack, direction flag
 * clear. xs may be NULL. */
void icd_clean_fp(struct user_regs_struct *r, uint8_t *xs, size_t xlen);

#endif
