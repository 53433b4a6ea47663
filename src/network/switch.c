/*
 * Scheme switch: routes requests by BIN (longest prefix) to an issuer host or to the
 * bridge, remembers who sent each request under its matching key (DE 32, DE 11, DE 7,
 * MTI class), and hands each response back to exactly that sender. A target silent past
 * the switch timer gets the sender an RC 91 (financial requests; reversal senders repeat
 * on their own). Unknown BIN: RC 15; a route back to the sender: RC 92.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/network.h>

#include "common/map.h"
#include "common/pool.h"
#include "network/revq.h"
#include "network/txnkey.h"

enum { TIMER_RESPONSE = 1, TIMER_FORGET = 2, TIMER_REVERSAL = 3 };

/* How long a timed-out entry stays to recognise its late response (µs). */
#define LATE_GRACE (120 * BS_US_PER_SEC)

struct sw_txn {
    struct bs__pool_hdr hdr;
    struct bs__tkey key;
    uint64_t hkey;
    uint64_t trace;
    uint32_t origin, target;
    bool timed_out;
    bool answerable; /* a request the switch answers itself on timeout */
    char pan[20], proc[7], amount[13], currency[4], rrn[13], mti[5], fwd[12];
};

struct sw {
    struct bs_node base;
    struct bs_switch_cfg cfg;
    char inst_id[12];
    struct bs__pool txns;
    struct bs__map by_key;
    uint32_t next_stan;
    struct bs__revq revq;
};

struct key_match {
    const struct sw *s;
    const struct bs__tkey *key;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
    const struct key_match *km = ctx;
    const struct sw_txn *x = bs__pool_at(&km->s->txns, idx);

    return bs__tkey_eq(&x->key, km->key);
}

static struct sw_txn *find(struct sw *s, const struct bs__tkey *k, uint32_t *ret_idx)
{
    struct key_match km = { s, k };

    if (bs__map_get(&s->by_key, bs__tkey_hash(k), key_eq, &km, ret_idx) != 0)
        return NULL;
    return bs__pool_at(&s->txns, *ret_idx);
}

static void release(struct sw *s, uint32_t idx)
{
    struct sw_txn *x = bs__pool_at(&s->txns, idx);

    bs__map_del(&s->by_key, x->hkey, idx);
    bs__pool_release(&s->txns, idx);
}

static bs_time_us timer_for(const struct sw *s, uint32_t target, unsigned ch)
{
    const struct bs_timer_set *t = &s->cfg.timers[ch];

    if (target == s->cfg.bridge)
        return t->bridge + (t->acquirer - t->bridge) / 2;
    return t->stand_in;
}

static void copy_str(const struct bs_iso_msg *m, unsigned de, char *out, size_t cap)
{
    if (bs_iso_msg_get_str(m, de, out, cap) < 0)
        out[0] = '\0';
}

static void handle_request(struct sw *s, uint32_t from, struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_node *node = &s->base;
    struct bs_env *env = node->env;
    struct bs__tkey k;
    struct sw_txn *x;
    uint32_t target, idx;
    size_t panlen;
    const uint8_t *pan = bs_iso_msg_get(m, 2, &panlen);

    if (!pan || bs_bin_lookup(s->cfg.routes, (const char *)pan, panlen, &target) != 0) {
        bs_node_reject(node, s->cfg.dialect, from, m, "15", trace);
        return;
    }
    if (target == from) {
        bs_node_reject(node, s->cfg.dialect, from, m, "92", trace);
        return;
    }
    bs__tkey_from_msg(m, &k);
    x = find(s, &k, &idx);
    if (x) {
        /* A repeat (0421 after 0420) or a duplicate of a request still open: pass it on
         * under the existing entry; the target answers it once. */
        if (!x->timed_out) {
            bs_node_send(node, s->cfg.dialect, x->target, m, trace);
            return;
        }
        release(s, idx);
    }
    if (bs__pool_alloc(&s->txns, &idx) != 0) {
        bs_node_reject(node, s->cfg.dialect, from, m, "96", trace);
        return;
    }
    x = bs__pool_at(&s->txns, idx);
    x->key = k;
    x->hkey = bs__tkey_hash(&k);
    x->trace = trace;
    x->origin = from;
    x->target = target;
    x->answerable = m->mti[1] == '1' || m->mti[1] == '2';
    memcpy(x->mti, m->mti, 5);
    copy_str(m, 2, x->pan, sizeof(x->pan));
    copy_str(m, 3, x->proc, sizeof(x->proc));
    copy_str(m, 4, x->amount, sizeof(x->amount));
    copy_str(m, 49, x->currency, sizeof(x->currency));
    copy_str(m, 37, x->rrn, sizeof(x->rrn));
    if (bs__map_put(&s->by_key, x->hkey, idx) != 0) {
        bs__pool_release(&s->txns, idx);
        bs_node_reject(node, s->cfg.dialect, from, m, "96", trace);
        return;
    }
    if (!bs_iso_msg_has(m, 33) && bs_iso_msg_set_str(m, 33, s->inst_id) != 0)
        goto fail;
    copy_str(m, 33, x->fwd, sizeof(x->fwd));
    if (bs_node_send(node, s->cfg.dialect, target, m, trace) != 0)
        goto fail;
    x = bs__pool_at(&s->txns, idx);
    env->ops->timer(env, node->id, timer_for(s, target, bs_channel_of(m)), TIMER_RESPONSE,
                    bs__cookie(idx, x->hdr.gen));
    return;
fail:
    release(s, idx);
    bs_node_reject(node, s->cfg.dialect, from, m, "96", trace);
}

static void handle_response(struct sw *s, uint32_t from, struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_node *node = &s->base;
    struct bs_env *env = node->env;
    struct bs__tkey k;
    struct sw_txn *x;
    uint32_t idx;

    if (bs__revq_on_response(&s->revq, m))
        return;
    bs__tkey_from_msg(m, &k);
    x = find(s, &k, &idx);
    if (!x || x->target != from) {
        env->ops->stat(env, BS_STAT_UNMATCHED, 1);
        bs_node_note(node, BS_J_UNMATCHED, from, m, trace, "no request with this key");
        return;
    }
    if (x->timed_out) {
        env->ops->stat(env, BS_STAT_LATE_RESPONSE, 1);
        bs_node_note(node, BS_J_LATE, from, m, x->trace, "after switch timeout");
        return;
    }
    bs_node_send(node, s->cfg.dialect, x->origin, m, x->trace);
    release(s, idx);
}

static void on_message(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                       uint64_t trace)
{
    struct sw *s = (struct sw *)node;
    struct bs_iso_msg m;
    enum bs_sig_status st;
    int rc = bs_node_recv(node, s->cfg.dialect, from, buf, n, trace, &m, &st);

    if (rc == BS_EFORMAT || rc == BS_ESIG) {
        bs_node_reject(node, s->cfg.dialect, from, &m, rc == BS_ESIG ? "63" : "30", trace);
        return;
    }
    if (bs_mti_is_response(m.mti))
        handle_response(s, from, &m, trace);
    else
        handle_request(s, from, &m, trace);
}

static void reverse_original(struct sw *s, const struct sw_txn *x)
{
    struct bs_canon c;

    memset(&c, 0, sizeof(c));
    memcpy(c.mti, x->mti, 5);
    memcpy(c.pan, x->pan, sizeof(c.pan));
    memcpy(c.proc, x->proc, sizeof(c.proc));
    c.amount = strtoll(x->amount, NULL, 10);
    c.billing = -1;
    memcpy(c.dt, x->key.dt, sizeof(c.dt));
    memcpy(c.stan, x->key.stan, sizeof(c.stan));
    memcpy(c.acq, x->key.acq, sizeof(c.acq));
    memcpy(c.fwd, x->fwd, sizeof(c.fwd));
    memcpy(c.rrn, x->rrn, sizeof(c.rrn));
    memcpy(c.currency, x->currency, sizeof(c.currency));
    bs__revq_start(&s->revq, x->target, s->cfg.dialect, &c, "switch timeout", x->trace);
}

static void on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    struct sw *s = (struct sw *)node;
    struct bs_env *env = node->env;
    uint32_t idx = (uint32_t)cookie;
    struct sw_txn *x = bs__pool_live(&s->txns, idx, (uint32_t)(cookie >> 32));
    struct bs_iso_msg m;
    int err;

    if (kind == TIMER_REVERSAL) {
        bs__revq_on_timer(&s->revq, cookie);
        return;
    }
    if (!x)
        return;
    if (kind == TIMER_FORGET) {
        release(s, idx);
        return;
    }
    if (kind != TIMER_RESPONSE || x->timed_out)
        return;
    x->timed_out = true;
    env->ops->stat(env, BS_STAT_SWITCH_TIMEOUT, 1);
    bs_node_note(node, BS_J_TIMEOUT, x->target, NULL, x->trace, "no response from target");
    if (x->answerable) {
        char mti[5];
        bs_mti_response(x->mti, mti);
        bs_iso_msg_init(&m, mti);
        err = bs_iso_msg_set_str(&m, 2, x->pan);
        err = err ? err : bs_iso_msg_set_str(&m, 3, x->proc);
        err = err ? err : bs_iso_msg_set_str(&m, 4, x->amount);
        err = err ? err : bs_iso_msg_set_str(&m, 7, x->key.dt);
        err = err ? err : bs_iso_msg_set_str(&m, 11, x->key.stan);
        err = err ? err : bs_iso_msg_set_str(&m, 32, x->key.acq);
        err = err ? err : bs_iso_msg_set_str(&m, 37, x->rrn);
        err = err ? err : bs_iso_msg_set_str(&m, 39, "91");
        err = err ? err : bs_iso_msg_set_str(&m, 49, x->currency);
        if (err == 0)
            bs_node_send(node, s->cfg.dialect, x->origin, &m, x->trace);
        /* The sender now has a decline; whatever the target may still have approved
         * must be undone, so the switch reverses towards it. */
        reverse_original(s, x);
    }
    x = bs__pool_at(&s->txns, idx);
    env->ops->timer(env, node->id, LATE_GRACE, TIMER_FORGET, bs__cookie(idx, x->hdr.gen));
}

static void sw_free(struct bs_node *node)
{
    struct sw *s = (struct sw *)node;

    bs__revq_deinit(&s->revq);
    bs__pool_deinit(&s->txns);
    bs__map_deinit(&s->by_key);
    bs_free(s);
}

static const struct bs_node_ops switch_ops = { on_message, on_timer, sw_free };

int bs_switch_new(const struct bs_switch_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                  struct bs_node **ret)
{
    struct sw *s;
    int rc;

    if (!cfg || !cfg->dialect || !cfg->routes || !cfg->inst_id || strlen(cfg->inst_id) > 11)
        return BS_EINVAL;
    s = bs_calloc(1, sizeof(*s));
    if (!s)
        return BS_ENOMEM;
    rc = bs_node_base_init(&s->base, &switch_ops, cfg->name, key, keys);
    if (rc)
        goto fail;
    s->cfg = *cfg;
    snprintf(s->inst_id, sizeof(s->inst_id), "%s", cfg->inst_id);
    s->cfg.inst_id = s->inst_id;
    bs__pool_init(&s->txns, sizeof(struct sw_txn), 4000000);
    rc = bs__map_init(&s->by_key, 1024, 4000000);
    if (rc)
        goto fail;
    s->next_stan = 1;
    rc = bs__revq_init(&s->revq, &s->base, TIMER_REVERSAL, s->inst_id, &s->next_stan,
                       cfg->reversal_max_repeats, cfg->reversal_backoff, cfg->reversal_backoff_max);
    if (rc)
        goto fail_map;
    *ret = &s->base;
    return 0;
fail_map:
    bs__map_deinit(&s->by_key);
fail:
    bs_free(s);
    return rc;
}
