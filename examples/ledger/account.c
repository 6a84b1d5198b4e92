#include <string.h>

#include "account.h"

void account_init(struct account *a, const char *owner, long opening)
{
	memset(a, 0, sizeof *a);
	strncpy(a->owner, owner, sizeof a->owner - 1);
	a->balance = opening;
}

/* Apply a transaction; refuse overdrafts. Returns 0 or -1. */
int account_apply(struct account *a, const struct txn *t)
{
	if (a->balance + t->amount < 0)
		return -1;
	a->balance += t->amount;
	history_record(&a->hist, t);
	return 0;
}
