/* Record expiry FIFO; see expire.h. */
#include <string.h>

#include "network/expire.h"

void bs__expire_init(struct bs__expire *x, uint32_t timer_kind)
{
    memset(x, 0, sizeof(*x));
    x->timer_kind = timer_kind;
}

void bs__expire_deinit(struct bs__expire *x)
{
    bs_free(x->r);
    memset(x, 0, sizeof(*x));
}

static void arm(struct bs__expire *x, struct bs_node *node)
{
    struct bs_env *env = node->env;
    bs_time_us due = x->r[x->head].due;

    x->armed = true;
    env->ops->timer(env, node->id, due > env->now ? due - env->now : 0, x->timer_kind, 0);
}

int bs__expire_add(struct bs__expire *x, struct bs_node *node, uint32_t idx, uint32_t gen,
                   bs_time_us delay)
{
    if (x->len == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        struct bs__expire_rec *r = bs_malloc(cap * sizeof(*r));
        if (!r)
            return BS_ENOMEM;
        for (size_t i = 0; i < x->len; i++)
            r[i] = x->r[(x->head + i) % x->cap];
        bs_free(x->r);
        x->r = r;
        x->cap = cap;
        x->head = 0;
    }
    x->r[(x->head + x->len) % x->cap] =
        (struct bs__expire_rec){ idx, gen, node->env->now + (delay > 0 ? delay : 0) };
    x->len++;
    if (!x->armed)
        arm(x, node);
    return 0;
}

void bs__expire_sweep(struct bs__expire *x, struct bs_node *node, const struct bs__pool *pool,
                      void (*release)(void *ctx, uint32_t idx), void *ctx)
{
    bs_time_us now = node->env->now;

    x->armed = false;
    while (x->len && x->r[x->head].due <= now) {
        struct bs__expire_rec rec = x->r[x->head];
        x->head = (x->head + 1) % x->cap;
        x->len--;
        if (bs__pool_live(pool, rec.idx, rec.gen))
            release(ctx, rec.idx);
    }
    if (x->len)
        arm(x, node);
}
