/*
 * STAN generator for DE 11 (ISO 8583:1987, n 6): 000001..999999 in cyclic order, never
 * 000000, never a STAN still in flight. In-flight STANs are one bit each, so a busy
 * link with many outstanding requests cannot make the generator hand out a duplicate
 * (moov-io/iso8583-connection #40: STAN-only matching collides past a million
 * transactions within a timeout).
 */
#include "iso_internal.h"

#define WORDS ((BS_ISO_STAN_MAX + 1 + 63) / 64)

struct bs_iso_stan {
    uint32_t next;     /* the candidate for the next call, 1..999999 */
    uint32_t inflight; /* count of set bits */
    uint64_t bits[WORDS];
};

int bs_iso_stan_new(uint32_t first, struct bs_iso_stan **ret)
{
    struct bs_iso_stan *s;

    if (!ret || first < 1 || first > BS_ISO_STAN_MAX)
        return BS_EINVAL;
    s = bs_calloc(1, sizeof(*s));
    if (!s)
        return BS_ENOMEM;
    s->next = first;
    *ret = s;
    return 0;
}

void bs_iso_stan_free(struct bs_iso_stan *s)
{
    bs_free(s);
}

static inline bool test(const struct bs_iso_stan *s, uint32_t v)
{
    return (s->bits[v >> 6] >> (v & 63)) & 1u;
}

int bs_iso_stan_next(struct bs_iso_stan *s, uint32_t *ret)
{
    uint32_t v;

    if (!s || !ret)
        return BS_EINVAL;
    if (s->inflight >= BS_ISO_STAN_MAX)
        return BS_ELIMIT;
    /* Scan a word at a time; terminates because at least one STAN is free. */
    v = s->next;
    while (test(s, v)) {
        uint64_t free_bits = ~s->bits[v >> 6] & (~UINT64_C(0) << (v & 63));

        if (free_bits) {
            v = (v & ~UINT32_C(63)) + (uint32_t)__builtin_ctzll(free_bits);
        } else {
            v = (v | 63) + 1;
        }
        if (v > BS_ISO_STAN_MAX || v == 0)
            v = 1;
    }
    s->bits[v >> 6] |= UINT64_C(1) << (v & 63);
    s->inflight++;
    s->next = v == BS_ISO_STAN_MAX ? 1 : v + 1;
    *ret = v;
    return 0;
}

int bs_iso_stan_done(struct bs_iso_stan *s, uint32_t stan)
{
    if (!s || stan < 1 || stan > BS_ISO_STAN_MAX)
        return BS_EINVAL;
    if (!test(s, stan))
        return BS_ENOTFOUND;
    s->bits[stan >> 6] &= ~(UINT64_C(1) << (stan & 63));
    s->inflight--;
    return 0;
}

bool bs_iso_stan_in_flight(const struct bs_iso_stan *s, uint32_t stan)
{
    if (!s || stan < 1 || stan > BS_ISO_STAN_MAX)
        return false;
    return test(s, stan);
}

size_t bs_iso_stan_count(const struct bs_iso_stan *s)
{
    return s ? s->inflight : 0;
}

void bs_iso_stan_format(uint32_t stan, char *buf)
{
    for (unsigned i = 6; i-- > 0;) {
        buf[i] = (char)('0' + stan % 10);
        stan /= 10;
    }
    buf[6] = '\0';
}
