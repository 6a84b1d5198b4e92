/* A tiny bank ledger: accounts with a short history of recent transactions. */
#ifndef LEDGER_ACCOUNT_H
#define LEDGER_ACCOUNT_H

#define HISTORY_LEN 8

struct txn {
	int id;
	int amount;            /* cents; negative for withdrawals */
};

struct history {
	int count;
	struct txn recent[HISTORY_LEN];
};

struct account {
	char owner[16];
	struct history hist;
	long balance;          /* cents */
};

void account_init(struct account *a, const char *owner, long opening);
int account_apply(struct account *a, const struct txn *t);
void history_record(struct history *h, const struct txn *t);
long history_sum(const struct history *h);

#endif
