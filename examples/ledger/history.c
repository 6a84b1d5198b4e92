#include "account.h"

/* Keep the most recent transactions. When the history is full, the oldest entry
 * makes room for the new one. */
void history_record(struct history *h, const struct txn *t)
{
	if (h->count <= HISTORY_LEN) {
		h->recent[h->count] = *t;
		h->count++;
		return;
	}
	for (int i = 1; i < HISTORY_LEN; i++)
		h->recent[i - 1] = h->recent[i];
	h->recent[HISTORY_LEN - 1] = *t;
}

long history_sum(const struct history *h)
{
	long s = 0;
	int n = h->count < HISTORY_LEN ? h->count : HISTORY_LEN;
	for (int i = 0; i < n; i++)
		s += h->recent[i].amount;
	return s;
}
