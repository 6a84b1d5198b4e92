/* reverse_lines: gdb's reverse-step/next decisions (infrun.c, process_event_stop_test
 * with execution_direction == EXEC_REVERSE) applied to runs instead of single
 * instructions. Pure: no program, no symbols; the runs carry what the rules read.
 *
 * Per instruction gdb does, going back from P with the step range = P's row:
 *  - inside the step range, same frame: stop at the range's start, unless it is the
 *    function's entry (then the caller's call comes next);
 *  - stepped back into a callee's return: reverse-next runs back to the callee's
 *    entry and one step more (the call); reverse-step enters a callee with line
 *    information and stops at the first row start going back;
 *  - otherwise, at the start of a row of a different line that is a statement:
 *    stop; else the step range becomes that row (and its line and frame the current
 *    ones, unless it is not a statement in the same frame).
 * A run lies in one row and only its first instruction can start a row, so the rule
 * for a whole run depends on its row, its start and whether more than one of its
 * instructions is gone back over. */
#include "replay/reverse_int.h"

int rl_pick(const struct rl_run *v, size_t n, struct rl_state *s, bool step, bool *enter)
{
	*enter = false;
	for (size_t j = n; j-- > 0;) {
		const struct rl_run *r = &v[j];
		if (step && r->call_at) {
			*enter = true;
			return (int)j;
		}
		bool in_range = r->frame == s->frame && r->start >= s->lo && r->start < s->hi;
		if (in_range) {
			if (r->start == s->lo && r->start != r->func_lo)
				return (int)j;
			continue;
		}
		if (r->line == 0)
			return (int)j;   /* no line information: gdb stops at once */
		if (r->ninsn == 1 && r->start == r->lo) {
			/* Its only instruction starts a row: gdb looks at it as a row start. */
			if (r->line != s->line) {
				if (r->stmt)
					return (int)j;
				s->lo = r->lo;
				s->hi = r->hi;
				if (r->frame != s->frame) {
					s->frame = r->frame;
					s->line = 0;
				}
				continue;
			}
			s->lo = r->lo;
			s->hi = r->hi;
			s->frame = r->frame;
			continue;
		}
		/* Entered in the middle of its row: the row becomes the step range, and
		 * going back through the run reaches its start inside it. */
		s->lo = r->lo;
		s->hi = r->hi;
		s->line = r->line;
		s->frame = r->frame;
		if (r->start == s->lo && r->start != r->func_lo)
			return (int)j;
	}
	return -1;
}
