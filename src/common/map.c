/* Hash index with linear probing and backward-shift deletion; see map.h. */
#include <string.h>

#include "common/map.h"

static size_t slot_of(const struct bs__map *m, uint64_t hash)
{
    return (size_t)hash & (m->cap - 1);
}

int bs__map_init(struct bs__map *m, size_t initial, size_t max)
{
    size_t cap = 16;

    while (cap < initial * 2)
        cap <<= 1;
    m->e = bs_calloc(cap, sizeof(*m->e));
    if (!m->e)
        return BS_ENOMEM;
    m->cap = cap;
    m->n = 0;
    m->max = max;
    return 0;
}

void bs__map_deinit(struct bs__map *m)
{
    bs_free(m->e);
    m->e = NULL;
    m->cap = m->n = 0;
}

static int grow(struct bs__map *m)
{
    struct bs__map_entry *old = m->e;
    size_t oldcap = m->cap;
    size_t cap = oldcap * 2;

    m->e = bs_calloc(cap, sizeof(*m->e));
    if (!m->e) {
        m->e = old;
        return BS_ENOMEM;
    }
    m->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].used)
            continue;
        size_t s = slot_of(m, old[i].hash);
        while (m->e[s].used)
            s = (s + 1) & (cap - 1);
        m->e[s] = old[i];
    }
    bs_free(old);
    return 0;
}

int bs__map_put(struct bs__map *m, uint64_t hash, uint32_t val)
{
    size_t s;

    if (m->max && m->n >= m->max)
        return BS_ELIMIT;
    /* Keep the load factor at or below 1/2 so probe runs stay short. */
    if ((m->n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    s = slot_of(m, hash);
    while (m->e[s].used)
        s = (s + 1) & (m->cap - 1);
    m->e[s] = (struct bs__map_entry){ hash, val, 1 };
    m->n++;
    return 0;
}

int bs__map_get(const struct bs__map *m, uint64_t hash, bs__map_eq eq, const void *ctx,
                uint32_t *ret)
{
    size_t s = slot_of(m, hash);

    while (m->e[s].used) {
        if (m->e[s].hash == hash && (!eq || eq(ctx, m->e[s].val))) {
            *ret = m->e[s].val;
            return 0;
        }
        s = (s + 1) & (m->cap - 1);
    }
    return BS_ENOTFOUND;
}

int bs__map_del(struct bs__map *m, uint64_t hash, uint32_t val)
{
    size_t s = slot_of(m, hash), mask = m->cap - 1;

    while (m->e[s].used && !(m->e[s].hash == hash && m->e[s].val == val))
        s = (s + 1) & mask;
    if (!m->e[s].used)
        return BS_ENOTFOUND;
    /* Backward-shift: move later members of the run into the hole when allowed. */
    size_t hole = s, j = s;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->e[j].used)
            break;
        size_t home = slot_of(m, m->e[j].hash);
        /* Entry j may move to the hole if its home is not in (hole, j] cyclically. */
        bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            m->e[hole] = m->e[j];
            hole = j;
        }
    }
    m->e[hole].used = 0;
    m->n--;
    return 0;
}

uint64_t bs__hash(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL), x;

    /* Eight bytes per step (keys are 10..40 bytes): multiply-rotate mixing, then the
     * murmur3 finaliser spreads every input bit over the whole word. */
    for (; n >= 8; n -= 8, p += 8) {
        memcpy(&x, p, 8);
        h ^= x;
        h *= 0x100000001b3ULL * 0x9e3779b97f4a7c15ULL | 1;
        h = h << 29 | h >> 35;
    }
    if (n) {
        x = 0;
        memcpy(&x, p, n);
        h ^= x;
        h *= 0x100000001b3ULL * 0x9e3779b97f4a7c15ULL | 1;
        h = h << 29 | h >> 35;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}
