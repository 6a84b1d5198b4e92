/* infcall: calling a function inside the debuggee (`call f(1, 2.5, s)`, `print f(x)`).
 *
 * As gdb does it: every thread is stopped; one thread's registers, extended state,
 * signal mask and pending signal are saved; the thread is pointed at the function
 * with its arguments in place and a return address that traps back to rewind; only
 * that thread runs; then everything is put back, whatever happened.
 *
 * Two ways to make the call:
 *  - the agent (librewind-agent.so, preloaded by infcall_agent_env): libffi inside
 *    the debuggee performs it, so structs by value, float/double/long double and
 *    variadic calls follow the ABI exactly;
 *  - direct, without the agent (static programs, or the agent not loaded yet):
 *    rewind loads the SysV registers itself and returns onto an int3 at the program's
 *    entry point (gdb's AT_ENTRY_POINT). Integer, pointer, float and double
 *    arguments and results only; struct or long double values need the agent.
 *
 * If the called function stops (a user breakpoint, a signal that stops, Ctrl-C) or
 * the thread dies, rewind abandons the call and restores the thread as it was
 * before the call (gdb's `set unwindonsignal on`, applied to breakpoints too):
 * the debuggee never sits inside a half-finished call. Memory the function wrote
 * stays written, as in gdb; the scratch memory rewind used below the stack's red
 * zone is put back. */
#ifndef REWIND_INFCALL_H
#define REWIND_INFCALL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inferior.h"
#include "util.h"

/* ---- types, as the caller (core/sym's evaluator) describes them from DWARF ---- */

enum infcall_kind {
	IC_VOID,        /* return type only */
	IC_SINT,        /* signed integer of size 1, 2, 4 or 8 (char, short, int, long, enum) */
	IC_UINT,        /* unsigned integer of size 1, 2, 4 or 8 (_Bool is IC_UINT 1) */
	IC_PTR,         /* any pointer (size 8) */
	IC_FLOAT,       /* size 4 */
	IC_DOUBLE,      /* size 8 */
	IC_LDOUBLE,     /* x87 80-bit long double, size 16 */
	IC_STRUCT,      /* members at offsets (C struct; also class without vtable) */
	IC_UNION,       /* members all at offset 0 (offsets may be given, must be 0) */
	IC_ARRAY,       /* count x elem; only as a member of a struct or union */
};

struct infcall_type;

struct infcall_member {
	const struct infcall_type *type;
	size_t offset;              /* bytes from the start of the aggregate */
};

/* From DWARF: enums are integers of their size, _Bool is IC_UINT 1, a bit-field is an
 * integer member covering its storage unit, an array parameter is IC_PTR. A C++
 * class that is not trivially copyable is passed and returned through a hidden
 * pointer: describe it as IC_PTR to a copy (and the return as a pointer argument).
 * _Complex, __int128 and vector types are refused (-EINVAL). */
struct infcall_type {
	enum infcall_kind kind;
	size_t size;                /* bytes (aggregates: sizeof, including padding) */
	size_t align;               /* aggregates: alignof; 0 = the largest member's */
	const struct infcall_member *members;  /* IC_STRUCT, IC_UNION */
	size_t nmembers;
	const struct infcall_type *elem;       /* IC_ARRAY */
	size_t count;                          /* IC_ARRAY */
};

/* Ready-made scalar types. */
extern const struct infcall_type infcall_void, infcall_s8, infcall_u8, infcall_s16,
	infcall_u16, infcall_s32, infcall_u32, infcall_s64, infcall_u64, infcall_ptr,
	infcall_float, infcall_double, infcall_ldouble;

/* One argument: its type and its value as it lies in memory (type->size bytes).
 * Arguments past nfixed of a variadic call get C's default promotions here
 * (float to double, integers narrower than int to int), so pass them unpromoted
 * or promoted, as convenient.
 * By reference (copy_len > 0, type IC_PTR): rewind copies copy_len bytes from data
 * into the call's scratch memory in the debuggee and passes their address. For
 * string literals (`f("abc")`) and objects C++ passes by invisible reference; the
 * copy lives while the call runs, then the memory is given back. */
struct infcall_arg {
	const struct infcall_type *type;
	const void *data;
	size_t copy_len;
};

enum {
	INFCALL_DIRECT = 1u << 0,   /* do not use the agent even if it is loaded */
};

/* The function: where it is and its prototype. */
struct infcall_fn {
	uint64_t addr;
	const char *name;                 /* for messages; NULL: shown as an address */
	const struct infcall_type *ret;   /* NULL: void */
	bool variadic;                    /* the prototype ends with "..." */
	size_t nfixed;                    /* variadic: parameters before the "..." */
	unsigned flags;                   /* INFCALL_* */
};

/* How a call ended. */
enum infcall_end {
	ICE_RETURNED,      /* the function returned; result filled */
	ICE_BREAKPOINT,    /* a user breakpoint in the called code (bp_id) */
	ICE_WATCHPOINT,    /* a watchpoint triggered in the called code (bp_id) */
	ICE_SIGNAL,        /* a signal that stops (sig, si); faults are discarded */
	ICE_INTERRUPTED,   /* inf_interrupt() (Ctrl-C) while the function ran */
	ICE_EXITED,        /* the thread or the process exited; nothing to restore */
	ICE_EXEC,          /* the process executed a new program */
	ICE_FAILED,        /* the call could not be made (see the return value) */
};

struct infcall_outcome {
	enum infcall_end end;
	bool via_agent;            /* made through the agent (else direct) */
	int bp_id;
	int sig;
	siginfo_t si;
	uint64_t pc;               /* where the called code stopped */
	int status;                /* ICE_EXITED: wait status of the process, if it is gone */
};

/* Call fn in thread t of inf (stopped, every other traced thread stopped too) with
 * nargs arguments. On return the result (fn->ret->size bytes) is in result, which
 * must hold at least that many bytes. Returns 0 when the function returned;
 * otherwise -errno with err (may be NULL) saying why and out (may be NULL) saying
 * how the call ended:
 *   -EINVAL   a type or argument rewind cannot pass (nothing ran);
 *   -ENOTSUP  the call needs the agent and it is not there (nothing ran);
 *   -EBUSY    a thread is running, or t cannot be redirected (exiting);
 *   -EFAULT   t's stack cannot hold the call (nothing ran);
 *   -ECANCELED the function stopped (breakpoint, signal, interrupt): abandoned;
 *   -ESRCH    the thread or process exited (or exec'd) during the call; the exit
 *             (exec) events are queued in inf->tg for the run loop to report.
 * t is left with the registers, extended state, signal mask and pending signal it
 * had, unless it no longer exists. Other threads never run; threads the function
 * creates stay stopped until the program is resumed. The call runs outside
 * inf->policy: a recorder or replayer does not see its events. */
int infcall_run(struct inferior *inf, struct task *t, const struct infcall_fn *fn,
		const struct infcall_arg *args, size_t nargs, uint8_t *result, size_t result_len,
		struct infcall_outcome *out, struct sbuf *err);

/* ---- `print f(x)`: the expression evaluator's call hook (core/sym/expr.h) ---- */

struct sym_ctx;
struct value;

/* What the hook needs: set expr_env.call = infcall_expr_call and
 * expr_env.call_arg = a struct infcall_expr. */
struct infcall_expr {
	struct inferior *inf;
	struct task *t;                 /* the thread that makes the call (the selected one) */
	const struct sym_ctx *ctx;      /* where argument values are read; names functions */
};

/* Call fn (a function, or a pointer to one) with args as gdb does: arguments are
 * converted to the prototype's parameter types, references and arrays not in
 * memory (string literals) are passed by address of a copy, and the DWARF types
 * become infcall types. Returns 0 with *out (a value of the return type; caller
 * frees), or -errno with *err (malloc'd, gdb's wording where gdb has one). */
int infcall_expr_call(void *arg, struct value *fn, struct value **args, size_t nargs,
		      struct value **out, char **err);

/* ---- the agent ---- */

/* Path of librewind-agent.so: $REWIND_AGENT if set, else next to the running
 * executable (or in its core/agent/ build subdirectory), else the installed copy.
 * *out is malloc'd. Returns 0 or -ENOENT. */
int infcall_agent_path(char **out);

/* The environment to launch a debuggee with: base (NULL: rewind's environment) plus
 * LD_PRELOAD with the agent prepended, an existing LD_PRELOAD kept after it. The
 * vector and its strings are malloc'd (free with infcall_env_free). Returns 0,
 * -ENOENT (no agent found) or -EINVAL (its path contains a ':' or a space). */
int infcall_agent_env(char *const *base, char ***out);
void infcall_env_free(char **env);

/* Whether the agent is loaded and initialised in p (its constructor has run).
 * Returns 1 yes, 0 no, -errno when p cannot be inspected. */
int infcall_agent_ready(struct proc *p);

#endif
