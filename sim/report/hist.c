/* Log-linear histogram; see hist.h. */
#include <string.h>

#include "report/hist.h"

void bs_hist_init(struct bs_hist *h)
{
    memset(h, 0, sizeof(*h));
}

static void locate(uint64_t v, unsigned *e, unsigned *s)
{
    if (v < BS_HIST_SUB) {
        *e = 0;
        *s = (unsigned)v;
        return;
    }
    unsigned lz = (unsigned)__builtin_clzll(v);
    unsigned top = 63 - lz;                        /* index of the highest set bit, ≥ 7 */
    *e = top - 6;                                  /* 1 .. */
    *s = (unsigned)(v >> (top - 7)) - BS_HIST_SUB; /* the next 7 bits */
    if (*e >= BS_HIST_EXP) {
        *e = BS_HIST_EXP - 1;
        *s = BS_HIST_SUB - 1;
    }
}

/* The largest value that falls in bucket (e, s). */
static int64_t upper(unsigned e, unsigned s)
{
    if (e == 0)
        return (int64_t)s;
    unsigned shift = e - 1;
    return (int64_t)((((uint64_t)(s + BS_HIST_SUB) + 1) << shift) - 1);
}

void bs_hist_add(struct bs_hist *h, int64_t v)
{
    unsigned e, s;

    if (v < 0)
        v = 0;
    locate((uint64_t)v, &e, &s);
    h->b[e][s]++;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->count++;
    h->sum += (double)v;
}

int64_t bs_hist_quantile(const struct bs_hist *h, double q)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank == 0)
        rank = 1;
    for (unsigned e = 0; e < BS_HIST_EXP; e++)
        for (unsigned s = 0; s < BS_HIST_SUB; s++) {
            seen += h->b[e][s];
            if (seen >= rank) {
                int64_t u = upper(e, s);
                return u > h->max ? h->max : u;
            }
        }
    return h->max;
}

void bs_hist_merge(struct bs_hist *dst, const struct bs_hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned e = 0; e < BS_HIST_EXP; e++)
        for (unsigned s = 0; s < BS_HIST_SUB; s++)
            dst->b[e][s] += src->b[e][s];
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
}
