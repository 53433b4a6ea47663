/* Repeat queues for reversals and stand-in advices; see revq.h. */
#include <stddef.h>
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
    uint16_t repeats;
    bool sent;
    bool deferred; /* its repeat timer fired while the queue was held */
    uint64_t seq;  /* storing order */
    bs_time_us backoff;
    struct bs_canon msg; /* the message as first sent */
};

static int init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind,
                enum bs__repq_kind kind, bs_time_us backoff, bs_time_us backoff_max)
{
    memset(q, 0, sizeof(*q));
    q->node = node;
    q->kind = kind;
    q->timer_kind = timer_kind;
    q->backoff = backoff > 0 ? backoff : 5 * BS_US_PER_SEC;
    q->backoff_max = backoff_max > q->backoff ? backoff_max : q->backoff;
    bs__pool_init(&q->items, sizeof(struct rev), 4000000);
    return bs__map_init(&q->by_key, 256, 4000000);
}

int bs__revq_init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind,
                  const char *inst_id, uint32_t *stan, unsigned max_repeats, bs_time_us backoff,
                  bs_time_us backoff_max)
{
    int rc = init(q, node, timer_kind, BS__REPQ_REVERSAL, backoff, backoff_max);

    snprintf(q->inst_id, sizeof(q->inst_id), "%s", inst_id);
    q->stan = stan;
    q->max_repeats = max_repeats;
    return rc;
}

int bs__saf_init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind, size_t window,
                 bs_time_us backoff, bs_time_us backoff_max)
{
    int rc = init(q, node, timer_kind, BS__REPQ_ADVICE, backoff, backoff_max);

    q->window = window ? window : 1;
    return rc;
}

void bs__revq_deinit(struct bs__revq *q)
{
    for (uint32_t i = 0; i < q->items.top; i++)
        bs_wipe(&((struct rev *)bs__pool_at(&q->items, i))->msg, sizeof(struct bs_canon));
    bs__pool_deinit(&q->items);
    bs__map_deinit(&q->by_key);
    bs_free(q->fifo);
    bs_free(q->fifo_gen);
}

static const char *mti_of(const struct bs__revq *q, bool repeat)
{
    if (q->kind == BS__REPQ_ADVICE)
        return repeat ? "0221" : "0220";
    return repeat ? "0421" : "0420";
}

static void send(struct bs__revq *q, uint32_t idx, bool repeat)
{
    struct bs_env *env = q->node->env;
    struct rev *r = bs__pool_at(&q->items, idx);
    struct bs_iso_msg m;

    memcpy(r->msg.mti, mti_of(q, repeat), 5);
    if (!r->sent) {
        r->sent = true;
        q->outstanding++;
    }
    if (bs_canon_to_msg(&r->msg, &m) == 0)
        bs_node_send(q->node, r->d, r->to, &m, r->trace);
    if (q->kind == BS__REPQ_REVERSAL && strcmp(r->msg.rc, "17") == 0)
        env->ops->stat(env, repeat ? BS_STAT_CANCEL_REPEAT : BS_STAT_CANCEL_SENT, 1);
    else if (q->kind == BS__REPQ_REVERSAL)
        env->ops->stat(env, repeat ? BS_STAT_REVERSAL_REPEAT : BS_STAT_REVERSAL_SENT, 1);
    else
        env->ops->stat(env, repeat ? BS_STAT_ADVICE_REPEAT : BS_STAT_ADVICE_SENT, 1);
    r = bs__pool_at(&q->items, idx);
    env->ops->timer(env, q->node->id, r->backoff, q->timer_kind, bs__cookie(idx, r->hdr.gen));
}

/* Advices: send stored ones in order while the window has room (nothing while held). */
static void pump(struct bs__revq *q)
{
    while (!q->held && q->fifo_len && q->outstanding < q->window) {
        uint32_t idx = q->fifo[q->fifo_head], gen = q->fifo_gen[q->fifo_head];
        q->fifo_head = (q->fifo_head + 1) % q->fifo_cap;
        q->fifo_len--;
        if (bs__pool_live(&q->items, idx, gen))
            send(q, idx, false);
    }
}

static int fifo_push(struct bs__revq *q, uint32_t idx, uint32_t gen)
{
    if (q->fifo_len == q->fifo_cap) {
        size_t cap = q->fifo_cap ? q->fifo_cap * 2 : 64;
        uint32_t *f = bs_malloc(cap * sizeof(*f)), *g = bs_malloc(cap * sizeof(*g));
        if (!f || !g) {
            bs_free(f);
            bs_free(g);
            return BS_ENOMEM;
        }
        for (size_t i = 0; i < q->fifo_len; i++) {
            f[i] = q->fifo[(q->fifo_head + i) % q->fifo_cap];
            g[i] = q->fifo_gen[(q->fifo_head + i) % q->fifo_cap];
        }
        bs_free(q->fifo);
        bs_free(q->fifo_gen);
        q->fifo = f;
        q->fifo_gen = g;
        q->fifo_cap = cap;
        q->fifo_head = 0;
    }
    q->fifo[(q->fifo_head + q->fifo_len) % q->fifo_cap] = idx;
    q->fifo_gen[(q->fifo_head + q->fifo_len) % q->fifo_cap] = gen;
    q->fifo_len++;
    return 0;
}

static void finish(struct bs__revq *q, uint32_t idx)
{
    struct rev *r = bs__pool_at(&q->items, idx);

    bs__map_del(&q->by_key, r->hkey, idx);
    if (r->sent)
        q->outstanding--;
    bs_wipe(&r->msg, sizeof(r->msg));
    bs__pool_release(&q->items, idx);
    q->open--;
}

/* Reversals get identifiers of their own and name the original in DE 90. */
static void make_reversal(struct bs__revq *q, struct rev *r, const struct bs_canon *orig)
{
    r->msg.auth[0] = '\0';
    snprintf(r->msg.orig, sizeof(r->msg.orig), "%.4s%6.6s%10.10s%011llu%011llu", orig->mti,
             orig->stan, orig->dt, strtoull(orig->acq, NULL, 10), strtoull(orig->fwd, NULL, 10));
    snprintf(r->msg.acq, sizeof(r->msg.acq), "%s", q->inst_id);
    r->msg.fwd[0] = '\0';
    snprintf(r->msg.stan, sizeof(r->msg.stan), "%06u", *q->stan);
    *q->stan = *q->stan >= 999999 ? 1 : *q->stan + 1;
    bs_format_times(bs_node_now(q->node), 0, r->msg.dt, NULL, NULL);
    /* DE 39 of a reversal is its reason: the originator's (17 customer cancellation), else
     * 68, no response in time. */
    memcpy(r->msg.rc, strcmp(orig->rc, "17") == 0 ? "17" : "68", 3);
}

int bs__revq_start(struct bs__revq *q, uint32_t to, const struct bs_iso_dialect *d,
                   const struct bs_canon *orig, const char *why, uint64_t trace)
{
    struct bs_env *env = q->node->env;
    struct bs_iso_msg m;
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
    r->seq = q->next_seq++;
    r->msg = *orig;
    /* Neither kind carries card-reading data. */
    r->msg.track2[0] = r->msg.expiry[0] = r->msg.pos_entry[0] = r->msg.pos_cond[0] = '\0';
    if (q->kind == BS__REPQ_REVERSAL)
        make_reversal(q, r, orig);
    memcpy(r->msg.mti, mti_of(q, false), 5);
    if (bs_canon_to_msg(&r->msg, &m) != 0) {
        bs__pool_release(&q->items, idx);
        rc = BS_EFORMAT;
        goto fail;
    }
    bs__tkey_from_msg(&m, &r->key);
    r->hkey = bs__tkey_hash(&r->key);
    rc = bs__map_put(&q->by_key, r->hkey, idx);
    if (rc == 0 && q->kind == BS__REPQ_ADVICE)
        rc = fifo_push(q, idx, r->hdr.gen);
    if (rc) {
        bs__map_del(&q->by_key, r->hkey, idx);
        bs__pool_release(&q->items, idx);
        goto fail;
    }
    q->open++;
    snprintf(note, sizeof(note), "%s: %s", q->kind == BS__REPQ_ADVICE ? "stored" : "start", why);
    bs_node_note(q->node, q->kind == BS__REPQ_ADVICE ? BS_J_ADVICE : BS_J_REVERSAL, to, &m, trace,
                 note);
    if (q->kind == BS__REPQ_ADVICE)
        pump(q);
    else
        send(q, idx, false);
    return 0;
fail:
    env->ops->stat(
        env, q->kind == BS__REPQ_ADVICE ? BS_STAT_ADVICE_EXCEPTION : BS_STAT_REVERSAL_EXCEPTION, 1);
    bs_node_note(q->node, q->kind == BS__REPQ_ADVICE ? BS_J_ADVICE : BS_J_REVERSAL, to, NULL, trace,
                 "exception: could not store");
    return rc;
}

bool bs__revq_on_response(struct bs__revq *q, const struct bs_iso_msg *m)
{
    struct bs_env *env = q->node->env;
    struct bs__tkey k;
    uint32_t idx;
    struct rev *r;

    /* 0430 answers a reversal (0420/0421), 0230 an advice (0220/0221). */
    if (m->mti[1] != (q->kind == BS__REPQ_ADVICE ? '2' : '4') || m->mti[2] != '3')
        return false;
    bs__tkey_from_msg(m, &k);
    if (!bs__tkey_find(&q->by_key, &q->items, offsetof(struct rev, key), &k, &idx))
        return false;
    r = bs__pool_at(&q->items, idx);
    {
        char rc[3] = "";
        /* Only an approval acknowledges: a 0430 with RC 63 or 30 means our message was
         * rejected on the way (damaged, bad signature), so the repeats go on. */
        if (bs_iso_msg_get_str(m, 39, rc, sizeof(rc)) < 0 || strcmp(rc, "00") != 0) {
            bs_node_note(q->node, q->kind == BS__REPQ_ADVICE ? BS_J_ADVICE : BS_J_REVERSAL, r->to,
                         m, r->trace, "rejected on the way: will repeat");
            return true;
        }
    }
    env->ops->stat(env,
                   q->kind == BS__REPQ_ADVICE     ? BS_STAT_ADVICE_DONE
                   : strcmp(r->msg.rc, "17") == 0 ? BS_STAT_CANCEL_DONE
                                                  : BS_STAT_REVERSAL_DONE,
                   1);
    bs_node_note(q->node, q->kind == BS__REPQ_ADVICE ? BS_J_ADVICE : BS_J_REVERSAL, r->to, m,
                 r->trace, "acknowledged");
    finish(q, idx);
    if (q->kind == BS__REPQ_ADVICE)
        pump(q);
    return true;
}

void bs__revq_on_timer(struct bs__revq *q, uint64_t cookie)
{
    struct bs_env *env = q->node->env;
    uint32_t idx = (uint32_t)cookie;
    struct rev *r = bs__pool_live(&q->items, idx, (uint32_t)(cookie >> 32));

    if (!r)
        return;
    if (q->held) {
        /* The peer is down: the repeat waits for it (bs__revq_hold()). */
        r->deferred = true;
        return;
    }
    if (q->kind == BS__REPQ_REVERSAL && r->repeats >= q->max_repeats) {
        env->ops->stat(env, BS_STAT_REVERSAL_EXCEPTION, 1);
        bs_node_note(q->node, BS_J_REVERSAL, r->to, NULL, r->trace,
                     "exception: no 0430 after the last repeat");
        finish(q, idx);
        return;
    }
    if (r->repeats < UINT16_MAX)
        r->repeats++;
    r->backoff *= 2;
    if (r->backoff > q->backoff_max)
        r->backoff = q->backoff_max;
    send(q, idx, true);
}

static int by_seq(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;

    return *x < *y ? -1 : *x > *y;
}

void bs__revq_hold(struct bs__revq *q, bool hold)
{
    uint64_t *order = NULL;
    size_t n = 0;

    if (q->held == hold)
        return;
    q->held = hold;
    if (hold)
        return;
    /* Deferred repeats first, in storing order: (seq << 32 | index) sorts by seq. The
     * deferred ones were all sent, so there are at most @outstanding of them. */
    if (q->outstanding)
        order = bs_malloc(q->outstanding * sizeof(*order));
    for (uint32_t i = 0; order && i < q->items.top && n < q->outstanding; i++) {
        struct rev *r = bs__pool_at(&q->items, i);
        if (r->hdr.in_use && r->deferred)
            order[n++] = r->seq << 32 | i;
    }
    if (!order && q->outstanding) {
        /* No memory to sort: resend in index order rather than not at all. */
        for (uint32_t i = 0; i < q->items.top; i++) {
            struct rev *r = bs__pool_at(&q->items, i);
            if (r->hdr.in_use && r->deferred) {
                r->deferred = false;
                if (r->repeats < UINT16_MAX)
                    r->repeats++;
                send(q, i, true);
            }
        }
    }
    if (n)
        qsort(order, n, sizeof(*order), by_seq);
    for (size_t k = 0; k < n; k++) {
        uint32_t idx = (uint32_t)order[k];
        struct rev *r = bs__pool_at(&q->items, idx);

        r->deferred = false;
        if (r->repeats < UINT16_MAX)
            r->repeats++;
        send(q, idx, true);
    }
    bs_free(order);
    pump(q);
}
