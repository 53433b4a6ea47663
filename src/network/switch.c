/*
 * Scheme switch: routes requests by BIN (longest prefix) to an issuer host or to the
 * bridge, remembers who sent each request under its matching key (DE 32, DE 11, DE 7,
 * MTI class), and hands each response back to exactly that sender. Unknown BIN: RC 15;
 * a route back to the sender: RC 92.
 *
 * A target silent past the switch timer: towards one of its own issuers the switch stands
 * in when its policy allows (answers 00 with a stand-in authorization code and stores a
 * 0220 advice in that issuer's store-and-forward queue); otherwise it answers RC 91 and
 * reverses towards the target, so a late approval there is undone.
 *
 * Network management (netmgmt.h): a target marked down gets no new request; the switch
 * decides at once as if it had timed out, but with nothing to reverse. Its SAF queue is
 * held while it is down and drains in order when it is back up.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/network.h>

#include "common/map.h"
#include "common/pool.h"
#include "network/expire.h"
#include "network/netmgmt.h"
#include "network/revq.h"
#include "network/stip.h"
#include "network/txnkey.h"

enum {
    TIMER_RESPONSE = 1,
    TIMER_FORGET = 2,
    TIMER_REVERSAL = 3,
    TIMER_NETMGMT = 8,
    TIMER_SAF = 16
};

/* How long a timed-out entry stays to recognise its late response (µs). */
#define LATE_GRACE (120 * BS_US_PER_SEC)
/* Store-and-forward queues: one per issuer the switch stood in for. */
#define MAX_SAF 64

struct sw_txn {
    struct bs__pool_hdr hdr;
    struct bs__tkey key;
    uint64_t hkey;
    uint64_t trace;
    uint32_t origin, target;
    bool timed_out;
    struct bs_canon req; /* the request as forwarded, track data wiped */
};

struct saf {
    uint32_t target;
    struct bs__revq q;
};

struct sw {
    struct bs_node base;
    struct bs_switch_cfg cfg;
    char inst_id[12];
    struct bs__pool txns;
    struct bs__map by_key;
    uint32_t next_stan;
    struct bs__revq revq;
    struct bs__stip stip;
    struct saf saf[MAX_SAF];
    size_t nsaf;
    struct bs__expire expire; /* timed-out requests, kept LATE_GRACE for late answers */
    struct bs__nm nm;         /* 0800/0810 with its acquirers, issuers and the bridge */
};

static struct sw_txn *find(struct sw *s, const struct bs__tkey *k, uint32_t *ret_idx)
{
    return bs__tkey_find(&s->by_key, &s->txns, offsetof(struct sw_txn, key), k, ret_idx);
}

static void release(struct sw *s, uint32_t idx)
{
    struct sw_txn *x = bs__pool_at(&s->txns, idx);

    bs__map_del(&s->by_key, x->hkey, idx);
    bs_wipe(&x->req, sizeof(x->req));
    bs__pool_release(&s->txns, idx);
}

static void release_txn(void *ctx, uint32_t idx)
{
    release(ctx, idx);
}

static bs_time_us timer_for(const struct sw *s, uint32_t target, unsigned ch)
{
    const struct bs_timer_set *t = &s->cfg.timers[ch];

    if (target == s->cfg.bridge)
        return t->bridge + (t->acquirer - t->bridge) / 2;
    return t->stand_in;
}

static struct saf *saf_for(struct sw *s, uint32_t target)
{
    for (size_t i = 0; i < s->nsaf; i++)
        if (s->saf[i].target == target)
            return &s->saf[i];
    if (s->nsaf == MAX_SAF)
        return NULL;
    struct saf *q = &s->saf[s->nsaf];
    if (bs__saf_init(&q->q, &s->base, TIMER_SAF + (uint32_t)s->nsaf, s->cfg.saf_window,
                     s->cfg.reversal_backoff, s->cfg.reversal_backoff_max) != 0) {
        bs__revq_deinit(&q->q);
        return NULL;
    }
    q->target = target;
    s->nsaf++;
    /* Stored advices wait while the issuer is down (network management). */
    bs__revq_hold(&q->q, !bs__nm_peer_up(&s->nm, target));
    return q;
}

/* A network management peer went down or came back: hold or drain its SAF queue. */
static void peer_changed(void *ctx, uint32_t peer, bool up)
{
    struct sw *s = ctx;

    for (size_t i = 0; i < s->nsaf; i++)
        if (s->saf[i].target == peer)
            bs__revq_hold(&s->saf[i].q, !up);
}

/* A new authorization or financial request (0100/0200 and their repeats). */
static bool is_new_request(const struct bs_iso_msg *m)
{
    return (m->mti[1] == '1' || m->mti[1] == '2') && m->mti[2] == '0';
}

static void target_down(struct sw *s, uint32_t idx);

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
    if (bs__nm_signed_off(&s->nm) && is_new_request(m)) {
        /* Signed off: out of service for new requests (ISO 8583 RC 91). */
        bs_node_reject(node, s->cfg.dialect, from, m, "91", trace);
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
    if (!bs_iso_msg_has(m, 33) && bs_iso_msg_set_str(m, 33, s->inst_id) != 0)
        goto fail_release;
    x = bs__pool_at(&s->txns, idx);
    x->key = k;
    x->hkey = bs__tkey_hash(&k);
    x->trace = trace;
    x->origin = from;
    x->target = target;
    if (bs_canon_from_msg(m, &x->req) != 0)
        goto fail_release;
    bs_wipe(x->req.track2, sizeof(x->req.track2));
    if (bs__map_put(&s->by_key, x->hkey, idx) != 0)
        goto fail_release;
    if (is_new_request(m) && !bs__nm_peer_up(&s->nm, target)) {
        target_down(s, idx);
        return;
    }
    if (bs_node_send(node, s->cfg.dialect, target, m, trace) != 0) {
        release(s, idx);
        goto fail;
    }
    x = bs__pool_at(&s->txns, idx);
    env->ops->timer(env, node->id, timer_for(s, target, bs_channel_of(m)), TIMER_RESPONSE,
                    bs__cookie(idx, x->hdr.gen));
    return;
fail_release:
    bs_wipe(&((struct sw_txn *)bs__pool_at(&s->txns, idx))->req, sizeof(struct bs_canon));
    bs__pool_release(&s->txns, idx);
fail:
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
    for (size_t i = 0; i < s->nsaf; i++)
        if (s->saf[i].target == from && bs__revq_on_response(&s->saf[i].q, m))
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
    if (bs__nm_on_message(&s->nm, s->cfg.dialect, from, &m, trace))
        return;
    if (bs_mti_is_response(m.mti))
        handle_response(s, from, &m, trace);
    else
        handle_request(s, from, &m, trace);
}

/* Answer the sender of @x itself, with @rc (and @auth when approving in stand-in). */
static void answer_origin(struct sw *s, const struct sw_txn *x, const char *rc, const char *auth)
{
    struct bs_canon c = x->req;
    struct bs_iso_msg m;

    if (bs_mti_response(x->req.mti, c.mti) != 0)
        return;
    memcpy(c.rc, rc, 3);
    snprintf(c.auth, sizeof(c.auth), "%s", auth ? auth : "");
    c.expiry[0] = c.pos_entry[0] = c.pos_cond[0] = c.mcc[0] = c.acceptor[0] = '\0';
    if (bs_canon_to_msg(&c, &m) == 0)
        bs_node_send(&s->base, s->cfg.dialect, x->origin, &m, x->trace);
}

/* Whether stand-in may approve a request with processing code @proc. */
static bool stands_in_for(const char *proc)
{
    unsigned t = bs_txn_type_of_proc(proc);

    return t == BS_TXN_PURCHASE || t == BS_TXN_ATM_WITHDRAWAL;
}

/* Stand in for a silent issuer when the policy allows; true when approved. */
static bool stand_in(struct sw *s, const struct sw_txn *x)
{
    struct bs_env *env = s->base.env;
    struct saf *q;
    struct bs_canon advice;
    int64_t amount = x->req.billing >= 0 ? x->req.billing : x->req.amount;
    char auth[7];

    /* Only purchases and cash are stood in for: a refund would need the issuer's say on a
     * credit, and a balance inquiry's answer (DE 54) only the issuer knows. */
    if (x->target == s->cfg.bridge || x->req.mti[1] != '2' || x->req.mti[2] != '0' ||
        !stands_in_for(x->req.proc))
        return false;
    if (!bs__stip_approve(&s->stip, x->req.pan, x->req.expiry, bs_channel_of_proc(x->req.proc),
                          amount, env->now, auth)) {
        if (s->stip.policy.enabled)
            env->ops->stat(env, BS_STAT_STAND_IN_DECLINED, 1);
        return false;
    }
    q = saf_for(s, x->target);
    if (!q)
        return false;
    env->ops->stat(env, BS_STAT_STAND_IN_APPROVED, 1);
    bs_node_note(&s->base, BS_J_STAND_IN, x->target, NULL, x->trace,
                 "approved in stand-in; advice stored");
    answer_origin(s, x, "00", auth);
    advice = x->req;
    memcpy(advice.rc, "00", 3);
    memcpy(advice.auth, auth, 7);
    bs__revq_start(&q->q, x->target, s->cfg.dialect, &advice, "stand-in approval", x->trace);
    bs_wipe(&advice, sizeof(advice));
    return true;
}

/*
 * The target of new request @idx is down (missed echo tests, or signed off): decide now
 * as the timer would — stand in where the policy allows, else RC 91 — but without the
 * reversal, since nothing was forwarded. The entry stays LATE_GRACE like a timed-out one.
 */
static void target_down(struct sw *s, uint32_t idx)
{
    struct bs_env *env = s->base.env;
    struct sw_txn *x = bs__pool_at(&s->txns, idx);

    x->timed_out = true;
    if (stand_in(s, x)) {
        env->ops->stat(env, BS_STAT_STAND_IN_PEER_DOWN, 1);
    } else {
        env->ops->stat(env, BS_STAT_PEER_DOWN_DECLINED, 1);
        bs_node_note(&s->base, BS_J_STAND_IN, x->target, NULL, x->trace,
                     "target down: declined RC 91, nothing forwarded");
        answer_origin(s, x, "91", NULL);
    }
    x = bs__pool_at(&s->txns, idx);
    bs__expire_add(&s->expire, &s->base, idx, x->hdr.gen, LATE_GRACE);
}

static void on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    struct sw *s = (struct sw *)node;
    struct bs_env *env = node->env;
    uint32_t idx = (uint32_t)cookie;
    struct sw_txn *x;

    if (kind == TIMER_NETMGMT) {
        bs__nm_on_timer(&s->nm, cookie);
        return;
    }
    if (kind == TIMER_REVERSAL) {
        bs__revq_on_timer(&s->revq, cookie);
        return;
    }
    if (kind == TIMER_FORGET) {
        bs__expire_sweep(&s->expire, node, &s->txns, release_txn, s);
        return;
    }
    if (kind >= TIMER_SAF) {
        if (kind - TIMER_SAF < s->nsaf)
            bs__revq_on_timer(&s->saf[kind - TIMER_SAF].q, cookie);
        return;
    }
    x = bs__pool_live(&s->txns, idx, (uint32_t)(cookie >> 32));
    if (!x)
        return;
    if (kind != TIMER_RESPONSE || x->timed_out)
        return;
    x->timed_out = true;
    env->ops->stat(env, BS_STAT_SWITCH_TIMEOUT, 1);
    bs_node_note(node, BS_J_TIMEOUT, x->target, NULL, x->trace, "no response from target");
    if (x->req.mti[1] == '1' || x->req.mti[1] == '2') {
        if (!stand_in(s, x)) {
            answer_origin(s, x, "91", NULL);
            /* The sender now has a decline; whatever the target may still have approved
             * must be undone, so the switch reverses towards it (a balance inquiry moved no
             * money: nothing to undo). */
            if (bs_txn_type_of_proc(x->req.proc) != BS_TXN_BALANCE_INQUIRY)
                bs__revq_start(&s->revq, x->target, s->cfg.dialect, &x->req, "switch timeout",
                               x->trace);
        }
    }
    x = bs__pool_at(&s->txns, idx);
    bs__expire_add(&s->expire, node, idx, x->hdr.gen, LATE_GRACE);
}

static void sw_free(struct bs_node *node)
{
    struct sw *s = (struct sw *)node;

    for (uint32_t i = 0; i < s->txns.top; i++)
        bs_wipe(&((struct sw_txn *)bs__pool_at(&s->txns, i))->req, sizeof(struct bs_canon));
    for (size_t i = 0; i < s->nsaf; i++)
        bs__revq_deinit(&s->saf[i].q);
    bs__stip_deinit(&s->stip);
    bs__revq_deinit(&s->revq);
    bs__expire_deinit(&s->expire);
    bs__pool_deinit(&s->txns);
    bs__map_deinit(&s->by_key);
    bs_free(s);
}

static void on_admin(struct bs_node *node, int event)
{
    bs__nm_admin(&((struct sw *)node)->nm, event);
}

static const struct bs_node_ops switch_ops = { on_message, on_timer, sw_free, on_admin };

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
    bs__expire_init(&s->expire, TIMER_FORGET);
    rc = bs__map_init(&s->by_key, 1024, 4000000);
    if (rc)
        goto fail;
    s->next_stan = 1;
    rc = bs__revq_init(&s->revq, &s->base, TIMER_REVERSAL, s->inst_id, &s->next_stan,
                       cfg->reversal_max_repeats, cfg->reversal_backoff, cfg->reversal_backoff_max);
    if (rc)
        goto fail_map;
    rc = bs__stip_init(&s->stip, &cfg->stip);
    if (rc)
        goto fail_revq;
    /* Network management: its acquirer and issuer hosts, then the bridge. */
    bs__nm_init(&s->nm, &s->base, TIMER_NETMGMT, peer_changed, s);
    for (size_t i = 0; rc == 0 && i < cfg->nmembers; i++)
        rc = bs__nm_add_peer(&s->nm, cfg->members[i], cfg->dialect, &cfg->nm, &s->next_stan);
    if (rc == 0 && cfg->bridge != UINT32_MAX)
        rc = bs__nm_add_peer(&s->nm, cfg->bridge, cfg->dialect, &cfg->nm_bridge, &s->next_stan);
    if (rc)
        goto fail_stip;
    s->cfg.members = NULL;
    s->cfg.nmembers = 0;
    *ret = &s->base;
    return 0;
fail_stip:
    bs__stip_deinit(&s->stip);
fail_revq:
    bs__revq_deinit(&s->revq);
fail_map:
    bs__map_deinit(&s->by_key);
fail:
    bs_free(s);
    return rc;
}

size_t bs_switch_open_advices(const struct bs_node *node)
{
    const struct sw *s = (const struct sw *)node;
    size_t n = 0;

    for (size_t i = 0; i < s->nsaf; i++)
        n += s->saf[i].q.open;
    return n;
}

size_t bs_switch_open_reversals(const struct bs_node *node)
{
    return ((const struct sw *)node)->revq.open;
}
