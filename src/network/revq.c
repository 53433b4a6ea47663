/* Reversal originator; see revq.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network/revq.h"
#include "network/txnkey.h"

struct rev {
    struct bs__pool_hdr hdr;
    struct bs__tkey key;
    uint64_t hkey;
    uint64_t trace;
    uint32_t to;
    const struct bs_iso_dialect *d;
    uint8_t repeats;
    bs_time_us backoff;
    struct bs_canon msg; /* the 0420 as first sent */
};

struct key_match {
    const struct bs__revq *q;
    const struct bs__tkey *key;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
    const struct key_match *km = ctx;
    const struct rev *r = bs__pool_at(&km->q->items, idx);

    return bs__tkey_eq(&r->key, km->key);
}

int bs__revq_init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind,
                  const char *inst_id, uint32_t *stan, unsigned max_repeats, bs_time_us backoff,
                  bs_time_us backoff_max)
{
    memset(q, 0, sizeof(*q));
    q->node = node;
    q->timer_kind = timer_kind;
    snprintf(q->inst_id, sizeof(q->inst_id), "%s", inst_id);
    q->stan = stan;
    q->max_repeats = max_repeats;
    q->backoff = backoff > 0 ? backoff : 5 * BS_US_PER_SEC;
    q->backoff_max = backoff_max > q->backoff ? backoff_max : q->backoff;
    bs__pool_init(&q->items, sizeof(struct rev), 4000000);
    return bs__map_init(&q->by_key, 256, 4000000);
}

void bs__revq_deinit(struct bs__revq *q)
{
    for (uint32_t i = 0; i < q->items.top; i++)
        bs_wipe(&((struct rev *)bs__pool_at(&q->items, i))->msg, sizeof(struct bs_canon));
    bs__pool_deinit(&q->items);
    bs__map_deinit(&q->by_key);
}

static void send(struct bs__revq *q, uint32_t idx, bool repeat)
{
    struct bs_env *env = q->node->env;
    struct rev *r = bs__pool_at(&q->items, idx);
    struct bs_iso_msg m;

    memcpy(r->msg.mti, repeat ? "0421" : "0420", 5);
    if (bs_canon_to_msg(&r->msg, &m) == 0)
        bs_node_send(q->node, r->d, r->to, &m, r->trace);
    env->ops->stat(env, repeat ? BS_STAT_REVERSAL_REPEAT : BS_STAT_REVERSAL_SENT, 1);
    r = bs__pool_at(&q->items, idx);
    env->ops->timer(env, q->node->id, r->backoff, q->timer_kind, bs__cookie(idx, r->hdr.gen));
}

static void finish(struct bs__revq *q, uint32_t idx)
{
    struct rev *r = bs__pool_at(&q->items, idx);

    bs__map_del(&q->by_key, r->hkey, idx);
    bs_wipe(&r->msg, sizeof(r->msg));
    bs__pool_release(&q->items, idx);
    q->open--;
}

int bs__revq_start(struct bs__revq *q, uint32_t to, const struct bs_iso_dialect *d,
                   const struct bs_canon *orig, const char *why, uint64_t trace)
{
    struct bs_env *env = q->node->env;
    struct rev *r;
    uint32_t idx;
    char note[96];
    int rc;

    rc = bs__pool_alloc(&q->items, &idx);
    if (rc)
        goto fail;
    r = bs__pool_at(&q->items, idx);
    r->to = to;
    r->d = d;
    r->trace = trace;
    r->backoff = q->backoff;
    r->msg = *orig;
    /* The reversal carries the original's amounts and references, none of its
     * card-reading data, and new identifiers of its own. */
    r->msg.track2[0] = r->msg.expiry[0] = r->msg.pos_entry[0] = r->msg.pos_cond[0] = '\0';
    r->msg.auth[0] = '\0';
    snprintf(r->msg.orig, sizeof(r->msg.orig), "%.4s%6.6s%10.10s%011llu%011llu", orig->mti,
             orig->stan, orig->dt, strtoull(orig->acq, NULL, 10), strtoull(orig->fwd, NULL, 10));
    snprintf(r->msg.acq, sizeof(r->msg.acq), "%s", q->inst_id);
    r->msg.fwd[0] = '\0';
    snprintf(r->msg.stan, sizeof(r->msg.stan), "%06u", *q->stan);
    *q->stan = *q->stan >= 999999 ? 1 : *q->stan + 1;
    bs_format_times(env->now, 0, r->msg.dt, NULL, NULL);
    memcpy(r->msg.rc, "68", 3); /* reason: no response in time */
    memcpy(r->msg.mti, "0420", 5);
    {
        struct bs_iso_msg m;
        if (bs_canon_to_msg(&r->msg, &m) != 0) {
            bs__pool_release(&q->items, idx);
            rc = BS_EFORMAT;
            goto fail;
        }
        bs__tkey_from_msg(&m, &r->key);
    }
    r->hkey = bs__tkey_hash(&r->key);
    rc = bs__map_put(&q->by_key, r->hkey, idx);
    if (rc) {
        bs__pool_release(&q->items, idx);
        goto fail;
    }
    q->open++;
    snprintf(note, sizeof(note), "start: %s", why);
    bs_node_note(q->node, BS_J_REVERSAL, to, NULL, trace, note);
    send(q, idx, false);
    return 0;
fail:
    env->ops->stat(env, BS_STAT_REVERSAL_EXCEPTION, 1);
    bs_node_note(q->node, BS_J_REVERSAL, to, NULL, trace, "exception: could not start");
    return rc;
}

bool bs__revq_on_response(struct bs__revq *q, const struct bs_iso_msg *m)
{
    struct bs_env *env = q->node->env;
    struct bs__tkey k;
    struct key_match km = { q, &k };
    uint32_t idx;
    struct rev *r;

    if (m->mti[1] != '4')
        return false;
    bs__tkey_from_msg(m, &k);
    if (bs__map_get(&q->by_key, bs__tkey_hash(&k), key_eq, &km, &idx) != 0)
        return false;
    r = bs__pool_at(&q->items, idx);
    env->ops->stat(env, BS_STAT_REVERSAL_DONE, 1);
    bs_node_note(q->node, BS_J_REVERSAL, r->to, m, r->trace, "acknowledged");
    finish(q, idx);
    return true;
}

void bs__revq_on_timer(struct bs__revq *q, uint64_t cookie)
{
    struct bs_env *env = q->node->env;
    uint32_t idx = (uint32_t)cookie;
    struct rev *r = bs__pool_live(&q->items, idx, (uint32_t)(cookie >> 32));

    if (!r)
        return;
    if (r->repeats >= q->max_repeats) {
        env->ops->stat(env, BS_STAT_REVERSAL_EXCEPTION, 1);
        bs_node_note(q->node, BS_J_REVERSAL, r->to, NULL, r->trace,
                     "exception: no 0430 after the last repeat");
        finish(q, idx);
        return;
    }
    r->repeats++;
    r->backoff *= 2;
    if (r->backoff > q->backoff_max)
        r->backoff = q->backoff_max;
    send(q, idx, true);
}
