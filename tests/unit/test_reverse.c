/* Unit tests of the pure parts of reverse execution: gdb's reverse-step/next rules on
 * runs (replay/reverse_lines.c) and the thinning of timeline snapshots
 * (replay/timeline.c). The run sequences below are what tests/progs/loop.c executes
 * (its line table as gdb reads it: discriminator rows merged), and the expected
 * stops are what gdb 13's `record full` does on it. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "replay/reverse_int.h"

/* loop.c, main at 0x1159: rows 13 [1159,1161) 14 [1161,1168) 15 [1168,116f)
 * 15 [116f,1171) 16 [1171,117e) 15 [117e,1188) 17 [1188,..); bump at 0x1139: rows
 * 7 [1139,1140) 8 [1140,1151) 9 [1151,1157) 10 [1157,1159). */
static struct rl_run run(uint64_t start, unsigned ninsn, int frame)
{
	static const struct { uint64_t lo, hi; int line; } rows[] = {
		{ 0x1139, 0x1140, 7 }, { 0x1140, 0x1151, 8 }, { 0x1151, 0x1157, 9 },
		{ 0x1157, 0x1159, 10 }, { 0x1159, 0x1161, 13 }, { 0x1161, 0x1168, 14 },
		{ 0x1168, 0x116f, 15 }, { 0x116f, 0x1171, 15 }, { 0x1171, 0x117e, 16 },
		{ 0x117e, 0x1188, 15 }, { 0x1188, 0x11a7, 17 },
	};
	struct rl_run r = { .start = start, .ninsn = ninsn, .frame = frame, .stmt = true };
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (start >= rows[i].lo && start < rows[i].hi) {
			r.lo = rows[i].lo;
			r.hi = rows[i].hi;
			r.line = rows[i].line;
		}
	r.func_lo = start < 0x1159 ? 0x1139 : 0x1159;
	return r;
}

static struct rl_state at(uint64_t lo, uint64_t hi, int line)
{
	return (struct rl_state){ .lo = lo, .hi = hi, .line = line, .frame = 0 };
}

Test(rl_pick, next_from_first_iteration_body_goes_to_the_line_before_the_loop)
{
	/* main: 13, 14 (1 insn), 15 init (1 insn), 15 jmp (1 insn), cond at 0x1182 (cmpl,
	 * jle), then P = 0x1171 (line 16, i = 0). gdb stops at 14: the rows of line 15 it
	 * enters at their start are the same line, so it goes on. */
	struct rl_run v[] = { run(0x1159, 2, 0), run(0x1161, 1, 0), run(0x1168, 1, 0),
			      run(0x116f, 1, 0), run(0x1182, 2, 0) };
	struct rl_state s = at(0x1171, 0x117e, 16);
	bool enter;
	cr_expect_eq(rl_pick(v, 5, &s, false, &enter), 1);
	cr_expect_not(enter);
}

Test(rl_pick, next_from_second_iteration_body_stops_at_the_increment)
{
	struct rl_run v[] = { run(0x1171, 2, 0), run(0x117e, 1, 0), run(0x1182, 2, 0) };
	v[0].call_at = 0x1176;
	struct rl_state s = at(0x1171, 0x117e, 16);
	bool enter;
	cr_expect_eq(rl_pick(v, 3, &s, false, &enter), 1);   /* 0x117e */
	s = at(0x1171, 0x117e, 16);
	cr_expect_eq(rl_pick(v, 3, &s, true, &enter), 1);    /* no call on the way */
	cr_expect_not(enter);
}

Test(rl_pick, step_back_over_a_call_enters_it_next_does_not)
{
	/* P = 0x117e (the increment): before it the body of line 16 with the call. */
	struct rl_run v[] = { run(0x1182, 2, 0), run(0x1171, 2, 0) };
	v[1].call_at = 0x1176;
	struct rl_state s = at(0x117e, 0x1188, 15);
	bool enter;
	cr_expect_eq(rl_pick(v, 2, &s, true, &enter), 1);
	cr_expect(enter);
	s = at(0x117e, 0x1188, 15);
	cr_expect_eq(rl_pick(v, 2, &s, false, &enter), 1);   /* 0x1171, line 16's start */
	cr_expect_not(enter);
}

Test(rl_pick, back_out_of_a_function_to_the_start_of_the_callers_line)
{
	/* P = bump's line 8 start; before it bump's entry row (line 7, not a stop: the
	 * function's entry), before that main's line 16 up to the call. */
	struct rl_run v[] = { run(0x1171, 2, 1), run(0x1139, 2, 0) };
	struct rl_state s = at(0x1140, 0x1151, 8);
	bool enter;
	cr_expect_eq(rl_pick(v, 2, &s, false, &enter), 0);
	cr_expect_eq(s.frame, 1);
}

Test(rl_pick, mid_line_goes_back_to_the_start_of_its_row)
{
	/* P in the middle of line 8: its run starts at the row's start. */
	struct rl_run v[] = { run(0x1139, 2, 0), run(0x1140, 2, 0) };
	struct rl_state s = at(0x1140, 0x1151, 8);
	bool enter;
	cr_expect_eq(rl_pick(v, 2, &s, false, &enter), 1);
}

Test(rl_pick, a_row_entered_in_its_middle_is_followed_back_to_its_start)
{
	/* A run starting at a jump target inside row 15 [117e,1188) (0x1182), the run
	 * before it at the row's start: the stop is that start. */
	struct rl_run v[] = { run(0x117e, 1, 0), run(0x1182, 2, 0) };
	struct rl_state s = at(0x1171, 0x117e, 16);
	bool enter;
	cr_expect_eq(rl_pick(v, 2, &s, false, &enter), 0);
}

Test(rl_pick, not_a_statement_keeps_the_line)
{
	/* A one-instruction run at the start of a row of another line that is no
	 * statement: gdb takes its range but keeps stepping for a statement. */
	struct rl_run v[] = { run(0x1161, 1, 0), run(0x1168, 1, 0) };
	v[1].stmt = false;
	v[1].line = 99;
	struct rl_state s = at(0x116f, 0x1171, 15);
	bool enter;
	cr_expect_eq(rl_pick(v, 2, &s, false, &enter), 0);   /* 14, a statement */
	cr_expect_eq(s.line, 15);
}

Test(rl_pick, no_line_information_stops_at_once)
{
	struct rl_run v[] = { run(0x1161, 2, 0), run(0x5000, 2, 0) };
	v[1].line = 0;
	struct rl_state s = at(0x1171, 0x117e, 16);
	bool enter;
	cr_expect_eq(rl_pick(v, 2, &s, false, &enter), 1);
}

Test(rl_pick, runs_ending_first_ask_for_more)
{
	struct rl_run v[] = { run(0x1182, 2, 0) };
	struct rl_state s = at(0x1171, 0x117e, 16);
	bool enter;
	cr_expect_eq(rl_pick(v, 1, &s, false, &enter), -1);
	/* The state carries on: the next (earlier) run at the row's start stops it. */
	struct rl_run w[] = { run(0x117e, 1, 0) };
	cr_expect_eq(rl_pick(w, 1, &s, false, &enter), 0);
	cr_expect_eq(rl_pick(NULL, 0, &s, false, &enter), -1);
}

/* ---- thinning ---- */

static size_t kept(const uint64_t *x, size_t n, uint64_t now, bool *keep)
{
	return tl_thin_select(x, n, now, 10000000, 0.5, keep);
}

Test(thin, exponential_spacing_dense_near_now)
{
	enum { N = 1000 };
	uint64_t *x = malloc(N * sizeof *x);
	bool *keep = malloc(N * sizeof *keep);
	for (size_t i = 0; i < N; i++)
		x[i] = (i + 1) * 10000000ull;   /* every 10 ms over 10 s */
	uint64_t now = x[N - 1] + 1;
	size_t k = kept(x, N, now, keep);
	cr_expect(keep[N - 1], "the newest is kept");
	cr_expect(keep[N - 2], "the one before it too: 10 ms is the minimum gap");
	/* log(10 s / 10 ms) / log(1.5) is 17; at least a dozen, at most a few dozen. */
	cr_expect(k >= 12 && k <= 30, "kept %zu", k);
	/* Gaps grow going back: each at least half the distance of the later one. */
	uint64_t later = 0;
	for (size_t i = N; i-- > 0;) {
		if (!keep[i])
			continue;
		if (later)
			cr_expect((double)(later - x[i]) >= 0.5 * (double)(now - later) - 1);
		later = x[i];
	}
	free(x);
	free(keep);
}

Test(thin, both_sides_of_now)
{
	enum { N = 200 };
	uint64_t x[N];
	bool keep[N];
	for (size_t i = 0; i < N; i++)
		x[i] = (i + 1) * 10000000ull;
	uint64_t now = x[N / 2] + 5000000;
	size_t k = kept(x, N, now, keep);
	cr_expect(keep[N / 2] && keep[N / 2 + 1], "the nearest on each side");
	size_t before = 0, after = 0;
	for (size_t i = 0; i < N; i++)
		if (keep[i])
			*(i <= N / 2 ? &before : &after) += 1;
	cr_expect(before >= 5 && after >= 5 && before + after == k);
	cr_expect(k < N / 4);
}

Test(thin, few_and_sparse_are_all_kept)
{
	uint64_t x[] = { 500000000, 2000000000, 4000000000 };
	bool keep[3];
	cr_expect_eq(kept(x, 3, 4100000000ull, keep), 3);
	/* 1 s is too close to 2 s for its distance from now (2.5 s): dropped. */
	x[0] = 1000000000;
	cr_expect_eq(kept(x, 3, 4500000000ull, keep), 2);
	cr_expect(!keep[0] && keep[1] && keep[2]);
	cr_expect_eq(kept(x, 0, 0, keep), 0);
}
