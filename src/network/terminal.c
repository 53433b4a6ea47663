/*
 * Terminal pool: the POS terminals and ATMs behind one acquirer. Each transaction the
 * workload starts becomes a 0200 to the acquirer host; the terminal waits for the 0210 up
 * to its timer and reports the outcome (RC and end-to-end latency) to the environment.
 */
#include <stdio.h>
#include <string.h>

#include <bridgesim/network.h>

#include "common/fmt.h"
#include "common/map.h"
#include "common/pool.h"

enum { TIMER_RESPONSE = 1, TIMER_CANCEL = 2 };

/* An unanswered cancellation is repeated (0401, same STAN and DE 7) this many times. */
#define CANCEL_REPEATS 3

struct term_txn {
    struct bs__pool_hdr hdr;
    uint32_t stan;
    uint32_t flow;
    uint64_t trace;
    bs_time_us started;
    uint8_t type, channel;
    bool answered;          /* a cancellation's purchase was approved; its 0400 comes next */
    bool cancelling;        /* the 0400 is out, the terminal waits for the 0410 */
    uint8_t cancel_repeats; /* 0401s sent so far */
    char cancel_dt[11];     /* DE 7 of the 0400, kept for its repeats */
    bs_time_us cancel_after;
    bs_time_us deadline; /* of the latest response timer: an earlier one no longer counts */
    /* What the cardholder's cancellation (0400) repeats of the approved purchase. */
    char orig_stan[7], orig_dt[11], pan[20], amount[13], tid[9], mid[16];
};

struct terminal {
    struct bs_node base;
    struct bs_terminal_cfg cfg;
    char location[41];
    struct bs_merchant_group groups[BS_MERCHANT_GROUPS_MAX];
    struct bs__pool txns;
    struct bs__map by_stan;
    uint32_t next_stan;
};

static bool stan_eq(const void *ctx, uint32_t idx)
{
    (void)ctx;
    (void)idx;
    return true; /* the hash is the STAN itself: one entry per in-flight STAN */
}

/* Next STAN 000001–999999, wrapping, skipping any still in flight (issue #3). */
static int next_stan(struct terminal *t, uint32_t *ret)
{
    uint32_t idx;

    for (uint32_t tries = 0; tries < 999999; tries++) {
        uint32_t s = t->next_stan;
        t->next_stan = s >= 999999 ? 1 : s + 1;
        if (bs__map_get(&t->by_stan, s, stan_eq, NULL, &idx) != 0) {
            *ret = s;
            return 0;
        }
    }
    return BS_ELIMIT;
}

static void finish(struct terminal *t, uint32_t idx)
{
    struct term_txn *x = bs__pool_at(&t->txns, idx);

    bs__map_del(&t->by_stan, x->stan, idx);
    bs__pool_release(&t->txns, idx);
}

int bs_terminal_start(struct bs_node *node, const struct bs_txn_request *req)
{
    struct terminal *t = (struct terminal *)node;
    struct bs_env *env = node->env;
    struct bs_iso_msg m;
    struct term_txn *x;
    uint32_t idx, stan, merchant;
    uint16_t mcc;
    char de7[11], de12[7], de13[5], tid[9], mid[16], track2[40];
    uint8_t pinblk[BS_PIN_BLOCK_MAX];
    int rc, pinlen = 0;

    if (req->type >= BS_TXN_TYPE_COUNT ||
        (req->type == BS_TXN_CANCELLATION && req->cancel_after <= 0))
        return BS_EINVAL;
    rc = next_stan(t, &stan);
    if (rc)
        return rc;
    rc = bs__pool_alloc(&t->txns, &idx);
    if (rc)
        return rc;
    rc = bs__map_put(&t->by_stan, stan, idx);
    if (rc) {
        bs__pool_release(&t->txns, idx);
        return rc;
    }
    x = bs__pool_at(&t->txns, idx);
    x->stan = stan;
    x->flow = req->flow;
    x->trace = req->trace;
    x->started = env->now;
    x->type = (uint8_t)req->type;
    x->channel = (uint8_t)req->channel;
    x->answered = x->cancelling = false;
    x->cancel_repeats = 0;
    x->cancel_after = req->cancel_after;

    bs_format_times(bs_node_now(node), t->cfg.utc_offset_min, de7, de12, de13);
    /* "T%07u" and "M%014u", written by hand: snprintf cost more than the hop. */
    tid[0] = 'T';
    *bs__put_dec(tid + 1, req->terminal % 10000000u, 7) = '\0';
    merchant = req->terminal % (t->cfg.merchants ? t->cfg.merchants : 1);
    mcc = t->cfg.ngroups ? bs_merchant_mcc(t->groups, t->cfg.ngroups, merchant) : t->cfg.mcc;
    mid[0] = 'M';
    *bs__put_dec(mid + 1, (unsigned)merchant, 14) = '\0';
    /* Track 2 equivalent: PAN '=' YYMM service code 201, discretionary data. It travels
     * to the issuer as on a real chip read and is never journaled (PCI DSS 3.2). */
    {
        char *p = bs__put_str(track2, sizeof(req->pan), req->pan);
        *p++ = '=';
        p = bs__put_str(p, sizeof(req->expiry), req->expiry);
        memcpy(p, "2010000000", 11);
    }

    if (req->type == BS_TXN_CANCELLATION) {
        snprintf(x->orig_stan, sizeof(x->orig_stan), "%06u", (unsigned)stan);
        memcpy(x->orig_dt, de7, sizeof(x->orig_dt));
        snprintf(x->pan, sizeof(x->pan), "%s", req->pan);
        snprintf(x->amount, sizeof(x->amount), "%012lld", (long long)req->amount);
        memcpy(x->tid, tid, sizeof(x->tid));
        memcpy(x->mid, mid, sizeof(x->mid));
    }
    /* A balance inquiry is an authorization-class request (0100): it moves no money. */
    bs_iso_msg_init(&m, req->type == BS_TXN_BALANCE_INQUIRY ? "0100" : "0200");
    rc = bs_iso_msg_set_str(&m, 2, req->pan);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 3, bs_txn_proc_code(req->type, req->channel));
    rc = rc ? rc : bs_iso_msg_set_num(&m, 4, req->amount, 12);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 7, de7);
    rc = rc ? rc : bs_iso_msg_set_num(&m, 11, stan, 6);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 12, de12);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 13, de13);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 14, req->expiry);
    rc = rc ? rc : bs_iso_msg_set_num(&m, 18, req->channel == BS_CH_ATM ? 6011 : mcc, 4);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 22, "051");
    rc = rc ? rc : bs_iso_msg_set_str(&m, 25, req->channel == BS_CH_ATM ? "02" : "00");
    rc = rc ? rc : bs_iso_msg_set_str(&m, 35, track2);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 41, tid);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 42, mid);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 43, t->location);
    rc = rc ? rc : bs_iso_msg_set_num(&m, 49, t->cfg.currency, 3);
    /* DE 52: the PIN pad's ISO 9564-1 PIN block under the acquirer zone's PIN key, when
     * PINs are on for this channel; the clear PIN never leaves the (simulated) HSM. */
    if (rc == 0 && node->hsm) {
        pinlen = bs_hsm_pin_entry(node->hsm, node->pin_zone, req->channel, req->pan, req->trace,
                                  pinblk, sizeof(pinblk));
        rc = pinlen < 0 ? pinlen : pinlen > 0 ? bs_iso_msg_set(&m, 52, pinblk, (size_t)pinlen) : 0;
    }
    if (rc == 0)
        rc = bs_node_send(node, t->cfg.dialect, t->cfg.acquirer, &m, req->trace);
    bs_wipe(track2, sizeof(track2));
    if (pinlen > 0) {
        bs_wipe(pinblk, sizeof(pinblk));
        bs_wipe(&m, sizeof(m));
    }
    if (rc) {
        finish(t, idx);
        return rc;
    }
    x = bs__pool_at(&t->txns, idx);
    x->deadline = env->now + t->cfg.timers[req->channel].terminal;
    env->ops->timer(env, node->id, t->cfg.timers[req->channel].terminal, TIMER_RESPONSE,
                    bs__cookie(idx, ((struct term_txn *)bs__pool_at(&t->txns, idx))->hdr.gen));
    return 0;
}

static void on_message(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                       uint64_t trace)
{
    struct terminal *t = (struct terminal *)node;
    struct bs_env *env = node->env;
    struct bs_iso_msg m;
    enum bs_sig_status st;
    int64_t stan;
    uint32_t idx;
    char rc[3] = "";
    struct term_txn *x;

    if (bs_node_recv(node, t->cfg.dialect, from, buf, n, trace, &m, &st) != 0)
        return; /* journaled; the terminal times out, as a real one would */
    if ((strcmp(m.mti, "0210") != 0 && strcmp(m.mti, "0110") != 0 && strcmp(m.mti, "0410") != 0) ||
        bs_iso_msg_get_num(&m, 11, &stan) != 0 ||
        bs__map_get(&t->by_stan, (uint64_t)stan, stan_eq, NULL, &idx) != 0 ||
        (x = bs__pool_at(&t->txns, idx))->answered != (strcmp(m.mti, "0410") == 0) ||
        (x->answered && !x->cancelling)) {
        env->ops->stat(env, BS_STAT_UNMATCHED, 1);
        bs_node_note(node, BS_J_UNMATCHED, from, &m, trace, "no transaction in flight");
        return;
    }
    bs_iso_msg_get_str(&m, 39, rc, sizeof(rc));
    if (x->cancelling) {
        /* The acquirer took the cancellation (00) or had nothing to cancel: either way the
         * cardholder's business at this terminal is over. */
        bs_node_note(node, BS_J_REVERSAL, from, &m, x->trace,
                     strcmp(rc, "00") == 0 ? "cancellation accepted by the acquirer"
                                           : "cancellation refused by the acquirer");
        finish(t, idx);
        return;
    }
    env->ops->outcome(env, x->flow, x->type, rc[0] ? rc : "96", env->now - x->started);
    if (x->type == BS_TXN_CANCELLATION && strcmp(rc, "00") == 0) {
        /* Approved: the cardholder changes their mind a little later. */
        x->answered = true;
        env->ops->timer(env, node->id, x->cancel_after, TIMER_CANCEL, bs__cookie(idx, x->hdr.gen));
        return;
    }
    finish(t, idx);
}

/*
 * The cardholder cancels the approved purchase @idx: a 0400 reversal request to the
 * acquirer under a new STAN, DE 39 17 (customer cancellation), DE 90 naming the 0200 by the
 * terminal's own STAN and DE 7 (a terminal has no DE 32: zeros), and the purchase's DE 2,
 * 3, 4, 41, 42, 49. @repeat: the same again as 0401 (same STAN and DE 7) after no answer.
 */
static void send_cancellation(struct terminal *t, uint32_t idx, bool repeat)
{
    struct bs_node *node = &t->base;
    struct bs_env *env = node->env;
    struct term_txn *x = bs__pool_at(&t->txns, idx);
    struct bs_iso_msg m;
    char de7[11], de12[7], de13[5], de90[43];
    uint32_t stan;
    int rc;

    if (!repeat) {
        if (next_stan(t, &stan) != 0 || bs__map_put(&t->by_stan, stan, idx) != 0) {
            bs_node_note(node, BS_J_REVERSAL, t->cfg.acquirer, NULL, x->trace,
                         "cancellation not sent: no STAN free");
            finish(t, idx);
            return;
        }
        bs__map_del(&t->by_stan, x->stan, idx);
        x->stan = stan;
        x->cancelling = true;
        bs_format_times(bs_node_now(node), t->cfg.utc_offset_min, x->cancel_dt, NULL, NULL);
    }
    stan = x->stan;
    memcpy(de7, x->cancel_dt, sizeof(de7));
    bs_format_times(bs_node_now(node), t->cfg.utc_offset_min, NULL, de12, de13);
    snprintf(de90, sizeof(de90), "0200%s%s%011u%011u", x->orig_stan, x->orig_dt, 0u, 0u);
    bs_iso_msg_init(&m, repeat ? "0401" : "0400");
    rc = bs_iso_msg_set_str(&m, 2, x->pan);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 3, bs_txn_proc_code(BS_TXN_PURCHASE, x->channel));
    rc = rc ? rc : bs_iso_msg_set_str(&m, 4, x->amount);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 7, de7);
    rc = rc ? rc : bs_iso_msg_set_num(&m, 11, stan, 6);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 12, de12);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 13, de13);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 39, "17");
    rc = rc ? rc : bs_iso_msg_set_str(&m, 41, x->tid);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 42, x->mid);
    rc = rc ? rc : bs_iso_msg_set_num(&m, 49, t->cfg.currency, 3);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 90, de90);
    if (rc == 0)
        rc = bs_node_send(node, t->cfg.dialect, t->cfg.acquirer, &m, x->trace);
    if (rc) {
        finish(t, idx);
        return;
    }
    if (!repeat)
        env->ops->stat(env, BS_STAT_CANCEL_REQUESTED, 1);
    x = bs__pool_at(&t->txns, idx);
    x->deadline = env->now + t->cfg.timers[x->channel].terminal;
    env->ops->timer(env, node->id, t->cfg.timers[x->channel].terminal, TIMER_RESPONSE,
                    bs__cookie(idx, x->hdr.gen));
}

static void on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    struct terminal *t = (struct terminal *)node;
    struct bs_env *env = node->env;
    uint32_t idx = (uint32_t)cookie;
    struct term_txn *x = bs__pool_live(&t->txns, idx, (uint32_t)(cookie >> 32));

    if (!x)
        return;
    if (kind == TIMER_CANCEL) {
        if (x->answered && !x->cancelling)
            send_cancellation(t, idx, false);
        return;
    }
    if (kind != TIMER_RESPONSE || (x->answered && !x->cancelling) || env->now < x->deadline)
        return;
    if (x->cancelling && x->cancel_repeats < CANCEL_REPEATS) {
        /* Unanswered: the terminal asks again; the acquirer reverses at most once. */
        x->cancel_repeats++;
        bs_node_note(node, BS_J_TIMEOUT, t->cfg.acquirer, NULL, x->trace,
                     "no answer to the cancellation: repeated as 0401");
        send_cancellation(t, idx, true);
        return;
    }
    if (x->cancelling) {
        /* The purchase's outcome is reported; only the cancellation went unanswered. */
        bs_node_note(node, BS_J_TIMEOUT, t->cfg.acquirer, NULL, x->trace,
                     "no answer to the cancellation: given up");
        finish(t, idx);
        return;
    }
    env->ops->stat(env, BS_STAT_TERM_TIMEOUT, 1);
    bs_node_note(node, BS_J_TIMEOUT, t->cfg.acquirer, NULL, x->trace, "no response from acquirer");
    env->ops->outcome(env, x->flow, x->type, NULL, env->now - x->started);
    finish(t, idx);
}

static void term_free(struct bs_node *node)
{
    struct terminal *t = (struct terminal *)node;

    bs__pool_deinit(&t->txns);
    bs__map_deinit(&t->by_stan);
    bs_free(t);
}

static const struct bs_node_ops terminal_ops = { on_message, on_timer, term_free, NULL };

int bs_terminal_new(const struct bs_terminal_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                    struct bs_node **ret)
{
    struct terminal *t;
    int rc;

    if (!cfg || !cfg->dialect || !cfg->name || cfg->ngroups > BS_MERCHANT_GROUPS_MAX ||
        (cfg->ngroups && !cfg->groups))
        return BS_EINVAL;
    t = bs_calloc(1, sizeof(*t));
    if (!t)
        return BS_ENOMEM;
    rc = bs_node_base_init(&t->base, &terminal_ops, cfg->name, key, keys);
    if (rc)
        goto fail_free;
    t->cfg = *cfg;
    snprintf(t->location, sizeof(t->location), "%s", cfg->location ? cfg->location : "");
    t->cfg.location = t->location;
    if (cfg->ngroups)
        memcpy(t->groups, cfg->groups, cfg->ngroups * sizeof(*t->groups));
    t->cfg.groups = t->groups;
    t->next_stan = 1;
    bs__pool_init(&t->txns, sizeof(struct term_txn), 999999);
    rc = bs__map_init(&t->by_stan, 1024, 999999);
    if (rc)
        goto fail_free;
    *ret = &t->base;
    return 0;

fail_free:
    bs_free(t);
    return rc;
}

size_t bs_terminal_in_flight(const struct bs_node *node)
{
    return ((const struct terminal *)node)->txns.live;
}

uint16_t bs_merchant_mcc(const struct bs_merchant_group *groups, size_t n, uint32_t m)
{
    for (size_t i = 0; i < n; i++) {
        if (m < groups[i].count)
            return groups[i].mcc;
        m -= groups[i].count;
    }
    return 0;
}
