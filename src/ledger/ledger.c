/* Cardholder accounts of one issuer, with the issuer's settlement position as the
 * counter-entry of every posting, so conservation can be checked at any time. */
#include <bridgesim/money.h>

struct bs_ledger {
    size_t n;
    int64_t *balance;
    int64_t opening;
    int64_t debited, credited;
    uint64_t debits, credits;
};

#define LEDGER_MAX_ACCOUNTS 100000000u

int bs_ledger_new(size_t naccounts, struct bs_ledger **ret)
{
    struct bs_ledger *l;

    if (naccounts > LEDGER_MAX_ACCOUNTS)
        return BS_ELIMIT;
    l = bs_calloc(1, sizeof(*l));
    if (!l)
        return BS_ENOMEM;
    l->n = naccounts;
    l->balance = bs_calloc(naccounts ? naccounts : 1, sizeof(*l->balance));
    if (!l->balance) {
        bs_free(l);
        return BS_ENOMEM;
    }
    *ret = l;
    return 0;
}

void bs_ledger_free(struct bs_ledger *l)
{
    if (!l)
        return;
    bs_free(l->balance);
    bs_free(l);
}

int bs_ledger_open(struct bs_ledger *l, size_t idx, int64_t balance)
{
    if (idx >= l->n || balance < 0)
        return BS_EINVAL;
    if (l->debits || l->credits)
        return BS_ESTATE;
    int64_t opening;

    /* Into a temporary first: __builtin_*_overflow stores the wrapped value. */
    if (__builtin_add_overflow(l->opening - l->balance[idx], balance, &opening))
        return BS_EOVERFLOW;
    l->opening = opening;
    l->balance[idx] = balance;
    return 0;
}

int bs_ledger_debit(struct bs_ledger *l, size_t idx, int64_t amount)
{
    if (idx >= l->n || amount < 0)
        return BS_EINVAL;
    if (l->balance[idx] < amount)
        return BS_ERANGE;
    l->balance[idx] -= amount;
    l->debited += amount;
    l->debits++;
    return 0;
}

int bs_ledger_force_debit(struct bs_ledger *l, size_t idx, int64_t amount)
{
    if (idx >= l->n || amount < 0)
        return BS_EINVAL;
    int64_t b;

    if (__builtin_sub_overflow(l->balance[idx], amount, &b))
        return BS_EOVERFLOW;
    l->balance[idx] = b;
    l->debited += amount;
    l->debits++;
    return 0;
}

int bs_ledger_credit(struct bs_ledger *l, size_t idx, int64_t amount)
{
    if (idx >= l->n || amount < 0)
        return BS_EINVAL;
    int64_t b;

    if (__builtin_add_overflow(l->balance[idx], amount, &b))
        return BS_EOVERFLOW;
    l->balance[idx] = b;
    l->credited += amount;
    l->credits++;
    return 0;
}

int64_t bs_ledger_balance(const struct bs_ledger *l, size_t idx)
{
    return idx < l->n ? l->balance[idx] : 0;
}

void bs_ledger_totals(const struct bs_ledger *l, struct bs_ledger_totals *ret)
{
    int64_t sum = 0;

    for (size_t i = 0; i < l->n; i++)
        sum += l->balance[i];
    ret->opening = l->opening;
    ret->balances = sum;
    ret->debited = l->debited;
    ret->credited = l->credited;
    ret->position = l->debited - l->credited;
    ret->debits = l->debits;
    ret->credits = l->credits;
}

int bs_ledger_check(const struct bs_ledger *l)
{
    struct bs_ledger_totals t;

    bs_ledger_totals(l, &t);
    return t.balances + t.position == t.opening ? 0 : BS_ESTATE;
}
