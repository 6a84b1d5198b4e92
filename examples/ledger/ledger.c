/* ledger: applies a day of transactions to three accounts and checks that every
 * balance equals its opening balance plus the accepted transactions.
 *
 * It has a bug: one balance comes out wrong although every transaction looks
 * right. Find out who writes it:
 *   (rewind) break ledger_check        (rewind) run
 *   (rewind) print accounts[1]         ...balance is wrong...
 *   (rewind) watch accounts[1].balance
 *   (rewind) reverse-continue          <- rewind runs backwards to the bad write
 */
#include <stdio.h>

#include "account.h"

#define NACCOUNTS 3

static struct account accounts[NACCOUNTS];
static long expected[NACCOUNTS];

static const struct { int account; struct txn t; } day[] = {
	{ 0, { 101, 2500 } }, { 1, { 102, 1200 } }, { 2, { 103, -300 } },
	{ 1, { 104, 700 } },  { 1, { 105, -150 } }, { 0, { 106, -900 } },
	{ 1, { 107, 300 } },  { 1, { 108, 45 } },   { 2, { 109, 1999 } },
	{ 1, { 110, -60 } },  { 1, { 111, 500 } },  { 1, { 112, 20 } },
	{ 0, { 113, 75 } },   { 1, { 114, 990 } },  { 0, { 115, -5 } },
	{ 2, { 116, 42 } },
};

static int ledger_check(void)
{
	int bad = 0;
	for (int i = 0; i < NACCOUNTS; i++) {
		long got = accounts[i].balance;
		printf("%-6s balance %8.2f (expected %8.2f)%s\n", accounts[i].owner, got / 100.0,
		       expected[i] / 100.0, got == expected[i] ? "" : "  <-- WRONG");
		bad += got != expected[i];
	}
	return bad;
}

int main(void)
{
	static const char *const owners[NACCOUNTS] = { "alice", "bob", "carol" };
	for (int i = 0; i < NACCOUNTS; i++) {
		account_init(&accounts[i], owners[i], 10000);
		expected[i] = 10000;
	}
	for (unsigned i = 0; i < sizeof day / sizeof day[0]; i++) {
		struct account *a = &accounts[day[i].account];
		if (account_apply(a, &day[i].t) == 0)
			expected[day[i].account] += day[i].t.amount;
	}
	int bad = ledger_check();
	printf("%s\n", bad ? "ledger is inconsistent" : "ledger ok");
	return bad ? 1 : 0;
}
