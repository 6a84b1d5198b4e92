#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int session_init(struct session *s)
{
	memset(s, 0, sizeof *s);
	return inf_init(&s->inf);
}

void session_fini(struct session *s)
{
	inf_fini(&s->inf);
}

int session_launch(struct session *s, struct sbuf *err)
{
	int e = inf_launch(&s->inf, err);
	if (e == 0)
		s->started = true;
	return e;
}

int session_attach(struct session *s, pid_t pid, struct sbuf *err)
{
	int e = inf_attach(&s->inf, pid, err);
	if (e == 0)
		s->started = true;
	return e;
}

int session_detach(struct session *s)
{
	return inf_detach(&s->inf);
}

int session_kill(struct session *s)
{
	return inf_kill(&s->inf);
}

int session_exec(struct session *s, enum sess_cmd cmd, const struct sess_args *a, struct stop *st)
{
	struct inferior *inf = &s->inf;
	static const struct sess_args none = { .sig = -1 };
	if (!a)
		a = &none;
	if (a->dir == DIR_REVERSE) {
		memset(st, 0, sizeof *st);
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err,
			 "Reverse execution needs a recording; this session has none.");
		return -ENOTSUP;
	}
	switch (cmd) {
	case SC_CONTINUE: return inf_continue(inf, a->sig, st);
	case SC_STEPI: return inf_stepi(inf, false, st);
	case SC_NEXTI: return inf_stepi(inf, true, st);
	case SC_STEP: return inf_step(inf, false, st);
	case SC_NEXT: return inf_step(inf, true, st);
	case SC_FINISH: return inf_finish(inf, st);
	case SC_UNTIL: return inf_until_next(inf, st);
	case SC_RUN_TO: return inf_run_to(inf, a->addr, a->until_frame, st);
	}
	return -EINVAL;
}
