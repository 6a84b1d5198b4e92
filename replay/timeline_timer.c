/* timeline_timer: interrupt a run after some wall time (timeline snapshots during a
 * long continue) or once the program has used some CPU time (a replay running
 * untrapped towards a far position).
 *
 * The deadline joins the run loop's own: while armed, the inferior's policy is
 * wrapped so that its timeout is the earlier of the engine's and ours, and when ours
 * passes the run loop is interrupted from inside (inf_interrupt between two events:
 * the interrupt is consumed by the same wait, never by a later command). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "replay/session.h"
#include "replay/timeline_int.h"

#define CPU_POLL_MS 1   /* how often the CPU clock is looked at */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t read_clock(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int w_on_event(void *ctx, struct inferior *inf, struct tev *ev)
{
	struct timeline *tl = ctx;
	return tl->inner && tl->inner->on_event ? tl->inner->on_event(tl->inner->ctx, inf, ev) : 0;
}

static int w_resume(void *ctx, struct inferior *inf, struct task *only, enum resume_mode m)
{
	struct timeline *tl = ctx;
	if (tl->inner && tl->inner->resume)
		return tl->inner->resume(tl->inner->ctx, inf, only, m);
	return target_resume(&inf->tg, only, m);
}

static int w_take_stop(void *ctx, struct inferior *inf, struct stop *st)
{
	struct timeline *tl = ctx;
	return tl->inner && tl->inner->take_stop ? tl->inner->take_stop(tl->inner->ctx, inf, st) : -1;
}

static bool due(struct timeline *tl)
{
	if (tl->deadline && mono_ns() >= tl->deadline)
		return true;
	return tl->cpu_limit && read_clock(tl->arm_clock) >= tl->cpu_limit;
}

static int w_timeout(void *ctx, struct inferior *inf)
{
	struct timeline *tl = ctx;
	int inner = tl->inner && tl->inner->timeout ? tl->inner->timeout(tl->inner->ctx, inf) : -1;
	if (!tl->armed)
		return inner;
	int mine;
	if (due(tl)) {
		mine = 0;
	} else if (tl->cpu_limit) {
		mine = CPU_POLL_MS;
	} else {
		uint64_t left = tl->deadline - mono_ns();
		mine = (int)((left + 999999) / 1000000);
	}
	return inner < 0 || mine < inner ? mine : inner;
}

static void w_on_timeout(void *ctx, struct inferior *inf)
{
	struct timeline *tl = ctx;
	if (tl->armed && due(tl)) {
		tl->armed = false;
		tl->fired = true;
		inf_interrupt(inf);
		return;
	}
	if (tl->inner && tl->inner->on_timeout)
		tl->inner->on_timeout(tl->inner->ctx, inf);
}

void tl_timer_init(struct timeline *tl)
{
	tl->wrap = (struct inf_policy){ .ctx = tl, .on_event = w_on_event, .resume = w_resume,
					.take_stop = w_take_stop, .timeout = w_timeout,
					.on_timeout = w_on_timeout };
}

void tl_timer_fini(struct timeline *tl)
{
	(void)tl;
}

void tl_arm(struct session *s, uint64_t cpu_ns, uint64_t wall_ns)
{
	struct timeline *tl = s->tl;
	struct inferior *inf = &s->inf;
	if (cpu_ns && !tl_cpu_clock(s))
		cpu_ns = 0;   /* no clock: the wall limit, if any, only */
	if (inf->policy != &tl->wrap) {
		tl->inner = inf->policy;
		inf->policy = &tl->wrap;
	}
	tl->fired = false;
	tl->deadline = wall_ns ? mono_ns() + wall_ns : 0;
	tl->cpu_limit = cpu_ns;
	tl->arm_clock = tl->clock;
	tl->armed = tl->deadline || tl->cpu_limit;
}

bool tl_disarm(struct session *s)
{
	struct timeline *tl = s->tl;
	struct inferior *inf = &s->inf;
	if (inf->policy == &tl->wrap)
		inf->policy = tl->inner;
	tl->armed = false;
	bool fired = tl->fired;
	tl->fired = false;
	return fired;
}

void tl_drain_interrupt(struct session *s)
{
	struct inferior *inf = &s->inf;
	uint64_t v;
	inf->interrupt_req = 0;
	inf->tg.wake_pending = false;
	ssize_t r = read(inf->tg.wake_fd, &v, sizeof v);
	(void)r;
}
