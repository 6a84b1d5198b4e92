/* reverse_continue: back to the most recent stop of the user's breakpoints and
 * watchpoints before now (or the start of the history).
 *
 * From the current point P: restore the latest snapshot C before P, replay to P with
 * the user's breakpoints and watchpoints armed, remembering every stop (its
 * position) on the way. The last one is the answer: replay to it again (from the
 * closest snapshot, taken during the first replay when that one ran long). None:
 * repeat over the stretch before C, down to the start of the history. A watchpoint
 * counts where its value changed (the core compares), and the program stops at the
 * instruction that wrote, as gdb shows a watchpoint going backwards. */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "replay/reverse_int.h"

int rv_reverse_continue(struct rv *r, struct stop *st)
{
	struct session *s = r->s;
	struct tl_node *end = r->origin;
	struct rv_scan sc;
	rv_scan_init(&sc);
	rv_user(r, true);
	int e = 0;
	for (;;) {
		struct tl_node *a = tl_anchor_before(s, end);
		if (!a) {
			/* end is the first point known: the start of the history. */
			rv_user(r, false);
			if (end != r->origin) {
				if (rv_restore(r, end, st) < 0) {
					e = -EIO;
					break;
				}
			}
			rv_stop_here(r, SR_HISTORY_BEGIN, st);
			break;
		}
		/* Between end and the origin there is no stop: that was scanned. */
		sc.loose_limit = end != r->origin ? r->origin : NULL;
		e = rv_scan_run(r, a, &end->pos, &sc, st);
		if (e < 0)
			break;
		struct rv_hit *last = NULL;
		for (size_t i = sc.hits.n; i-- > 0 && !last;)
			if (sc.hits.v[i].tag == RV_TAG_USER)
				last = &sc.hits.v[i];
		if (!last) {
			end = a;
			continue;
		}
		struct rv_hit h = *last;
		rv_user(r, false);
		struct tl_node *x = rv_goto_pos(r, &h.pos, h.anchor, st);
		if (!x) {
			e = -EIO;
			break;
		}
		if (h.user.reason == SR_WATCHPOINT) {
			e = rv_land_write(r, x, &h.user, st);
			break;
		}
		*st = h.user;
		st->print = SP_SRC_AND_LOC;
		struct task *t = rv_task(r, h.pos.tid);
		stop_fill_thread(st, t ? t : r->inf->cur);
		break;
	}
	rv_scan_free(&sc);
	return e;
}
