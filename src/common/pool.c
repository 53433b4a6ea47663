/* Index-addressed record pool; see pool.h. */
#include <string.h>

#include "common/pool.h"

int bs__pool_init(struct bs__pool *p, size_t isz, uint32_t max)
{
    memset(p, 0, sizeof(*p));
    p->isz = (isz + 7) & ~(size_t)7;
    p->max = max;
    return 0;
}

void bs__pool_deinit(struct bs__pool *p)
{
    bs_free(p->items);
    bs_free(p->free);
    memset(p, 0, sizeof(*p));
}

int bs__pool_alloc(struct bs__pool *p, uint32_t *ret_idx)
{
    uint32_t idx;
    struct bs__pool_hdr *h;

    if (p->nfree) {
        idx = p->free[--p->nfree];
    } else {
        if (p->top == p->cap) {
            uint32_t cap = p->cap ? p->cap * 2 : 64;
            uint8_t *items;
            uint32_t *fl;

            if (p->max && p->top >= p->max)
                return BS_ELIMIT;
            if (p->max && cap > p->max)
                cap = p->max;
            items = bs_realloc(p->items, (size_t)cap * p->isz);
            if (!items)
                return BS_ENOMEM;
            p->items = items;
            fl = bs_realloc(p->free, (size_t)cap * sizeof(*fl));
            if (!fl)
                return BS_ENOMEM;
            p->free = fl;
            p->cap = cap;
        }
        idx = p->top++;
        memset(bs__pool_at(p, idx), 0, p->isz);
    }
    h = bs__pool_at(p, idx);
    uint32_t gen = h->gen;
    memset(h, 0, p->isz);
    h->gen = gen;
    h->in_use = 1;
    p->live++;
    *ret_idx = idx;
    return 0;
}

void bs__pool_release(struct bs__pool *p, uint32_t idx)
{
    struct bs__pool_hdr *h = bs__pool_at(p, idx);

    if (!h->in_use)
        return;
    h->in_use = 0;
    h->gen++;
    p->free[p->nfree++] = idx;
    p->live--;
}
