/* sym_access over a live (or snapshot) task of the ptrace engine. */
#include "access.h"

#include <errno.h>
#include <string.h>

#include "core/proc.h"
#include "core/task.h"

static int t_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct task *t = ctx;
	return proc_read(t->proc, RADDR(addr), buf, len);
}

static int t_write_mem(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct task *t = ctx;
	return proc_write(t->proc, RADDR(addr), buf, len);
}

static int t_get_regs(void *ctx, struct user_regs_struct *out)
{
	struct user_regs_struct *r;
	int e = task_get_regs(ctx, &r);
	if (e < 0)
		return e;
	*out = *r;
	return 0;
}

static int t_set_regs(void *ctx, const struct user_regs_struct *in)
{
	return task_set_regs(ctx, in);
}

static int t_get_xstate(void *ctx, uint8_t **buf, size_t *len)
{
	return task_get_xstate(ctx, buf, len);
}

static int t_set_xstate(void *ctx, const uint8_t *buf, size_t len)
{
	return task_set_xstate(ctx, buf, len);
}

void sym_access_for_task(struct task *t, struct sym_access *out)
{
	*out = (struct sym_access){
		.ctx = t,
		.read_mem = t_read_mem,
		.write_mem = t_write_mem,
		.get_regs = t_get_regs,
		.set_regs = t_set_regs,
		.get_xstate = t_get_xstate,
		.set_xstate = t_set_xstate,
	};
}
