/*
 * A pool of fixed-size records addressed by 32-bit index, with a free list. Indexes stay
 * valid across growth (pointers do not: re-fetch with bs__pool_at() after an alloc).
 * Each record starts with a generation counter that changes on every release, so a timer
 * cookie (index, generation) can tell a live record from a reused one. Private.
 */
#ifndef BS_COMMON_POOL_H
#define BS_COMMON_POOL_H

#include <bridgesim/common.h>

struct bs__pool {
    uint8_t *items;
    size_t isz;
    uint32_t cap, top, nfree, live, max;
    uint32_t *free;
};

/** Every pooled record begins with this header. */
struct bs__pool_hdr {
    uint32_t gen;
    uint32_t in_use;
};

int bs__pool_init(struct bs__pool *p, size_t isz, uint32_t max);
void bs__pool_deinit(struct bs__pool *p);
/** Allocate a zeroed record (its header keeps the generation). BS_ELIMIT; BS_ENOMEM. */
int bs__pool_alloc(struct bs__pool *p, uint32_t *ret_idx);
/** Release record @idx; its generation advances. */
void bs__pool_release(struct bs__pool *p, uint32_t idx);

static inline void *bs__pool_at(const struct bs__pool *p, uint32_t idx)
{
    return p->items + (size_t)idx * p->isz;
}

/** The record @idx if it is in use with generation @gen, else NULL. */
static inline void *bs__pool_live(const struct bs__pool *p, uint32_t idx, uint32_t gen)
{
    struct bs__pool_hdr *h;

    if (idx >= p->top)
        return NULL;
    h = (struct bs__pool_hdr *)bs__pool_at(p, idx);
    return h->in_use && h->gen == gen ? h : NULL;
}

static inline uint64_t bs__cookie(uint32_t idx, uint32_t gen)
{
    return (uint64_t)gen << 32 | idx;
}

#endif
