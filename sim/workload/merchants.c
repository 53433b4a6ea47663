/* Merchant populations of the workload; see merchants.h. */
#include "workload/merchants.h"

#define MCC_ATM 6011 /* ISO 18245: financial institutions, automated cash disbursements */

/* Terminals of merchants [a, b) when @T terminals are dealt round-robin to @M merchants:
 * merchants below T mod M have one more than the others. */
static uint64_t terminals_of(uint32_t a, uint32_t b, uint32_t T, uint32_t M)
{
    uint32_t q = T / M, rem = T % M;

    return (uint64_t)(b - a) * q + (b < rem ? b : rem) - (a < rem ? a : rem);
}

static bool suits(const struct bs_merchant_group *g, bool atm)
{
    return (g->mcc == MCC_ATM) == atm;
}

uint32_t bs_workload_terminal(const struct bs_sc_acquirer *aq, unsigned channel, struct bs_rng *r)
{
    uint32_t T = aq->terminals, M = aq->merchants, first = 0;
    uint64_t allowed = 0, k;
    bool atm = channel == BS_CH_ATM, some = false;

    if (!aq->ngroups || !M || M > T)
        return (uint32_t)bs_rng_below(r, T);
    for (size_t g = 0; g < aq->ngroups; g++)
        some |= suits(&aq->groups[g], atm);
    for (size_t g = 0; g < aq->ngroups; first += aq->groups[g].count, g++)
        if (!some || suits(&aq->groups[g], atm))
            allowed += terminals_of(first, first + aq->groups[g].count, T, M);
    k = bs_rng_below(r, allowed);
    first = 0;
    for (size_t g = 0; g < aq->ngroups; first += aq->groups[g].count, g++) {
        uint32_t a = first, b = first + aq->groups[g].count, q = T / M;
        uint64_t n, big;

        if (some && !suits(&aq->groups[g], atm))
            continue;
        n = terminals_of(a, b, T, M);
        if (k >= n) {
            k -= n;
            continue;
        }
        /* Merchant m's terminals are m, m + M, m + 2M, ...: first the merchants of the group
         * with q + 1 of them, then those with q. */
        big = terminals_of(a, b, T, M) - (uint64_t)(b - a) * q;
        if (k < big * (q + 1))
            return (uint32_t)(a + k / (q + 1) + (k % (q + 1)) * M);
        k -= big * (q + 1);
        return (uint32_t)(a + big + k / q + (k % q) * M);
    }
    return 0; /* not reached: k < allowed, the terminals of the groups counted above */
}
