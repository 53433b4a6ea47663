/* PRNG streams; see rng.h. */
#include <string.h>

#include "engine/rng.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bs_rng_seed(struct bs_rng *r, uint64_t seed, const char *name)
{
    /* FNV-1a of the name, mixed with the seed: independent streams per name. */
    uint64_t h = 0xcbf29ce484222325ULL;
    uint64_t x;

    for (const char *p = name; *p; p++) {
        h ^= (uint8_t)*p;
        h *= 0x100000001b3ULL;
    }
    x = seed ^ splitmix64(&h);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t bs_rng_next(struct bs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t bs_rng_next_cb(void *r)
{
    return bs_rng_next(r);
}

double bs_rng_unit(struct bs_rng *r)
{
    return (double)(bs_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t bs_rng_below(struct bs_rng *r, uint64_t n)
{
    u128 m;
    uint64_t l;

    if (n == 0)
        return 0;
    m = (u128)bs_rng_next(r) * n;
    l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            m = (u128)bs_rng_next(r) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}
