/* condtrap against a real hot loop (rev_bench's): a state met later is found by the
 * in-process check alone, and a thread interrupted hundreds of times inside the
 * trampoline computes exactly what it computes without it. */
#include "snap_harness.h"

#include "core/condtrap.h"
#include "core/sym/symtab.h"

#define HITS 8

static const char *iters = "60000000";   /* ~0.3 s natively */

/* The next event of t's, skipping what the loop does not care about. */
static struct tev wait_for(struct task *t)
{
	for (;;) {
		struct tev ev;
		cr_assert_eq(target_wait(&tg, &ev, 60000), 1);
		if (ev.proc && ev.proc->snapshot)
			continue;
		if (ev.task == t || ev.kind == TEV_EXITED)
			return ev;
	}
}

static void step(struct task *t)
{
	cr_assert_eq(target_resume(&tg, t, RESUME_STEP), 0);
	struct tev ev = wait_for(t);
	cr_assert_eq(ev.kind, TEV_STEP, "got %s", tev_name(ev.kind));
}

/* Launch rev_bench cpu and stop it inside its loop, at an instruction a condtrap can
 * take; parts gets round_of's parts. */
static struct task *start(uint64_t (*parts)[2], int *nparts)
{
	char path[256];
	snprintf(path, sizeof path, "%s/rev_bench", PROGS_DIR);
	char *argv[] = { path, "cpu", "1", (char *)iters, NULL };
	struct proc *p = launch_args(argv);
	struct task *t = proc_main_task(p);
	cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
	usleep(40000);
	cr_assert_eq(task_interrupt(t), 0);
	struct tev ev = wait_for(t);
	cr_assert_eq(ev.kind, TEV_INTERRUPT, "got %s", tev_name(ev.kind));
	struct symtab *st;
	cr_assert_eq(symtab_open_pid(p->pid, &st), 0);
	for (int i = 0; i < 40; i++, step(t)) {
		*nparts = symtab_func_parts(st, task_pc(t), parts, 4);
		if (*nparts > 0 && condtrap_arm(&tg, t, task_pc(t), 1, (const uint64_t (*)[2])parts,
						*nparts) == 0) {
			condtrap_disarm(p);
			symtab_free(st);
			return t;
		}
	}
	cr_assert_fail("no instruction of the loop takes a condtrap");
	return NULL;
}

struct state {
	struct user_regs_struct r;
	uint64_t top[CONDTRAP_TOP];
};

static void state_of(struct task *t, struct state *s)
{
	struct user_regs_struct *r;
	cr_assert_eq(task_get_regs(t, &r), 0);
	s->r = *r;
	cr_assert_eq(proc_read(t->proc, RADDR(r->rsp), s->top, sizeof s->top), 0);
}

static void expect_state(struct task *t, const struct state *want, int hit)
{
	struct state s;
	state_of(t, &s);
	cr_expect_eq(s.r.rip, want->r.rip, "hit %d: rip %llx, want %llx", hit, s.r.rip, want->r.rip);
	cr_expect_eq(s.r.rax, want->r.rax, "hit %d: rax", hit);
	cr_expect_eq(s.r.rdx, want->r.rdx, "hit %d: rdx", hit);
	cr_expect_eq(s.r.rsp, want->r.rsp, "hit %d: rsp", hit);
	cr_expect_eq(s.r.eflags & 0x8d5, want->r.eflags & 0x8d5, "hit %d: flags", hit);
	cr_expect_eq(memcmp(s.top, want->top, sizeof s.top), 0, "hit %d: stack", hit);
}

static char *native_output(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/rev_bench cpu 1 %s", PROGS_DIR, iters);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	static char buf[256];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	cr_assert_eq(pclose(f), 0);
	return buf;
}

static void run_to_end(struct task *t)
{
	cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
	for (;;) {
		struct tev ev = wait_for(t);
		if (ev.kind == TEV_EXITED) {
			cr_assert(WIFEXITED(ev.status) && WEXITSTATUS(ev.status) == 0);
			break;
		}
		cr_assert(ev.kind == TEV_EXITING, "got %s", tev_name(ev.kind));
		cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
	}
	char *out = output();
	cr_expect_str_eq(out, native_output());
	free(out);
}

Test(condtrap, finds_a_later_state, .init = setup, .fini = teardown, .timeout = 120)
{
	uint64_t parts[4][2];
	int np;
	struct task *t = start(parts, &np);
	uint64_t pc = task_pc(t);
	struct snapshot *s = take(NULL);
	/* The states of the next HITS passes, by a breakpoint. */
	struct state hit[HITS + 1];
	uint64_t key[HITS + 1];
	for (int i = 1; i <= HITS; i++) {
		step(t);   /* off pc (a pass stands there) */
		cr_assert_eq(proc_bp_insert(t->proc, pc), 0);
		cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
		struct tev ev = wait_for(t);
		cr_assert_eq(ev.kind, TEV_BREAKPOINT, "got %s", tev_name(ev.kind));
		cr_assert_eq(proc_bp_remove(t->proc, pc), 0);
		state_of(t, &hit[i]);
		key[i] = condtrap_key(&hit[i].r, hit[i].top);
		for (int j = 1; j < i; j++)
			cr_assert_neq(key[i], key[j], "passes %d and %d have one key", j, i);
	}
	struct sbuf pb = { 0 };
	cr_assert_eq(snap_restore(&tg, s, &pb), 0, "%s", sbuf_str(&pb));
	sbuf_free(&pb);
	for (struct proc *p = tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot)
			t = proc_main_task(p);
	/* The sixth pass, then the eighth, found without a stop at the others. */
	static const int want[] = { 6, 8 };
	for (int w = 0; w < 2; w++) {
		cr_assert_eq(condtrap_arm(&tg, t, pc, key[want[w]], (const uint64_t (*)[2])parts, np), 0);
		cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
		struct tev ev = wait_for(t);
		cr_assert_eq(ev.kind, TEV_CONDTRAP, "got %s", tev_name(ev.kind));
		cr_assert_eq(ev.addr, pc);
		expect_state(t, &hit[want[w]], want[w]);
		uint8_t b;
		cr_assert_eq(proc_read_raw(t->proc, RADDR(pc), &b, 1), 0);
		cr_expect_neq(b, 0xe9, "the jump is out while the thread is stopped");
		condtrap_pass(t);
	}
	condtrap_disarm(t->proc);
	run_to_end(t);
	snap_drop(&tg, s);
}

Test(condtrap, interrupted_inside_the_trampoline, .init = setup, .fini = teardown, .timeout = 120)
{
	uint64_t parts[4][2];
	int np;
	struct task *t = start(parts, &np);
	uint64_t pc = task_pc(t);
	/* A key no state has: every pass runs the whole check; interrupts land in it. */
	cr_assert_eq(condtrap_arm(&tg, t, pc, 1, (const uint64_t (*)[2])parts, np), 0);
	unsigned seed = 12345, stops = 0;
	for (int i = 0; i < 300; i++) {
		cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
		usleep(50 + rand_r(&seed) % 300);
		cr_assert_eq(task_interrupt(t), 0);
		struct tev ev = wait_for(t);
		if (ev.kind == TEV_EXITED)
			cr_assert_fail("the program ended after %u interrupts", stops);
		cr_assert_eq(ev.kind, TEV_INTERRUPT, "got %s", tev_name(ev.kind));
		stops++;
		uint8_t b;
		cr_assert_eq(proc_read_raw(t->proc, RADDR(pc), &b, 1), 0);
		cr_assert_neq(b, 0xe9, "the jump is out while the thread is stopped");
		uint64_t at = task_pc(t) & ~(uint64_t)4095;
		cr_assert(!condtrap_is_page(t->proc, at, at + 8192), "stopped in the trampoline at %llx",
			  (unsigned long long)task_pc(t));
	}
	condtrap_disarm(t->proc);
	run_to_end(t);
}
