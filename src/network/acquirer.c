/*
 * Acquirer host: takes 0200s from its terminals, stamps its own STAN, RRN and DE 32,
 * forwards them to the scheme switch and relays the 0210 back. When the switch stays
 * silent past the acquirer timer it answers the terminal RC 91 and reverses: 0420 with
 * DE 90, repeated as 0421 with doubling backoff until a 0430 arrives or the repeats run
 * out (then the case is an exception). A late 0210 is journaled and changes nothing.
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
#include "network/txnkey.h"

enum { TIMER_RESPONSE = 1, TIMER_REVERSAL = 2, TIMER_FORGET = 3, TIMER_NETMGMT = 4 };

enum acq_state { ST_PENDING = 1, ST_TIMED_OUT, ST_DONE };

/* How long a timed-out request stays to recognise its late response (µs). */
#define LATE_GRACE (300 * BS_US_PER_SEC)

struct acq_txn {
    struct bs__pool_hdr hdr;
    uint8_t state;
    uint8_t channel;
    struct bs__tkey key; /* of the 0200 as sent to the switch */
    uint64_t hkey;
    struct bs__tkey tkey; /* the terminal's: DE 41, DE 11, DE 7 (duplicate detection) */
    uint64_t htkey;
    uint64_t content;    /* bs__content_hash of the terminal's request */
    char rc[3], auth[7]; /* the answer the terminal got, for its repeats */
    char mti[5];         /* of the terminal's request: 0200, or 0100 (balance inquiry) */
    bool cancelled;      /* the cardholder cancelled it: its reversal is under way */
    uint64_t trace;
    /* What a reversal and the terminal's answer need of the original request. */
    char term_stan[7], term_dt[11];
    char pan[20], proc[7], amount[13], currency[4], rrn[13], tid[9], mid[16];
};

struct acquirer {
    struct bs_node base;
    struct bs_acquirer_cfg cfg;
    char inst_id[12];
    struct bs__pool txns;
    struct bs__map by_key;
    struct bs__map by_term;
    uint32_t next_stan;
    uint32_t rrn_seq;
    struct bs__revq revq;
    struct bs__expire expire; /* answered and timed-out requests, kept LATE_GRACE */
    struct bs__nm nm;         /* 0800/0810 with the switch */
};

static struct acq_txn *find(struct acquirer *a, const struct bs__tkey *k, uint32_t *ret_idx)
{
    return bs__tkey_find(&a->by_key, &a->txns, offsetof(struct acq_txn, key), k, ret_idx);
}

static void release(struct acquirer *a, uint32_t idx)
{
    struct acq_txn *x = bs__pool_at(&a->txns, idx);

    bs__map_del(&a->by_key, x->hkey, idx);
    if (x->htkey)
        bs__map_del(&a->by_term, x->htkey, idx);
    bs__pool_release(&a->txns, idx);
}

static void release_txn(void *ctx, uint32_t idx)
{
    release(ctx, idx);
}

static void copy_str(const struct bs_iso_msg *m, unsigned de, char *out, size_t cap)
{
    if (bs_iso_msg_get_str(m, de, out, cap) < 0)
        out[0] = '\0';
}

static uint32_t take_stan(struct acquirer *a)
{
    uint32_t s = a->next_stan;

    a->next_stan = s >= 999999 ? 1 : s + 1;
    return s;
}

/* Write the low @w decimal digits of @v. */
static void put_digits(char *p, unsigned v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/*
 * RRN an12 (DE 37): last digit of the year, day of year (UTC), the acquirer's two-digit
 * RRN code (unique among the run's acquirers, so two acquirers never issue the same RRN),
 * then a 6-digit sequence of this acquirer: YDDDCCSSSSSS. Unique per acquirer for 999,999
 * transactions a day. (The bridge's own RRNs start with 'B' and never meet these.)
 */
static void make_rrn(struct acquirer *a, bs_time_us now, char out[13])
{
    int y, mo, d;
    static const int cum[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    int doy;

    bs_civil_from_us(now, 0, &y, &mo, &d, NULL, NULL, NULL, NULL);
    doy = cum[mo - 1] + d + (mo > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    a->rrn_seq = a->rrn_seq >= 999999 ? 1 : a->rrn_seq + 1;
    put_digits(out, (unsigned)(y % 10), 1);
    put_digits(out + 1, (unsigned)doy, 3);
    put_digits(out + 4, a->cfg.rrn_code, 2);
    put_digits(out + 6, a->rrn_seq, 6);
    out[12] = '\0';
}

static int index_record(struct acquirer *a, uint32_t idx)
{
    struct acq_txn *x = bs__pool_at(&a->txns, idx);

    x->hkey = bs__tkey_hash(&x->key);
    return bs__map_put(&a->by_key, x->hkey, idx);
}

static void answer_terminal(struct acquirer *a, const struct acq_txn *x,
                            const struct bs_iso_msg *resp, const char *rc);

/* The terminal sent a request again (its repeat, or a duplicate on the link): answer it
 * from the stored outcome, never forward it twice; RC 94 when it asks for something else
 * under the same DE 41, DE 11 and DE 7. */
static void duplicate(struct acquirer *a, uint32_t idx, const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_env *env = a->base.env;
    const struct acq_txn *x = bs__pool_at(&a->txns, idx);

    if (x->content != bs__content_hash(m)) {
        env->ops->stat(env, BS_STAT_DUPLICATE_MISMATCH, 1);
        bs_node_note(&a->base, BS_J_DUPLICATE, a->cfg.terminals, m, trace,
                     "same key, different content: RC 94");
        bs_node_reject(&a->base, a->cfg.dialect, a->cfg.terminals, m, "94", trace);
        return;
    }
    env->ops->stat(env, BS_STAT_DUPLICATE, 1);
    bs_node_note(&a->base, BS_J_DUPLICATE, a->cfg.terminals, m, trace,
                 x->state == ST_PENDING ? "repeat: in flight" : "repeat: stored response");
    if (x->state != ST_PENDING)
        answer_terminal(a, x, NULL, x->rc);
}

static void cancellation(struct acquirer *a, const struct bs_iso_msg *m, uint64_t trace);

static void handle_terminal_request(struct acquirer *a, struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_node *node = &a->base;
    struct bs_env *env = node->env;
    struct acq_txn *x;
    struct bs__tkey tk;
    uint32_t idx;
    char de7[11], rrn[13];
    int rc;

    if (strcmp(m->mti, "0400") == 0 || strcmp(m->mti, "0401") == 0) {
        cancellation(a, m, trace);
        return;
    }
    if (strcmp(m->mti, "0200") != 0 && strcmp(m->mti, "0100") != 0) {
        bs_node_reject(node, a->cfg.dialect, a->cfg.terminals, m, "12", trace);
        return;
    }
    memset(&tk, 0, sizeof(tk));
    tk.cls = m->mti[1];
    copy_str(m, 41, tk.acq, sizeof(tk.acq));
    copy_str(m, 11, tk.stan, sizeof(tk.stan));
    copy_str(m, 7, tk.dt, sizeof(tk.dt));
    if (bs__tkey_find(&a->by_term, &a->txns, offsetof(struct acq_txn, tkey), &tk, &idx)) {
        duplicate(a, idx, m, trace);
        return;
    }
    if (bs__nm_signed_off(&a->nm) || !bs__nm_peer_up(&a->nm, a->cfg.sw)) {
        /* Out of service, or the switch is: nothing can be authorised (RC 91), and nothing
         * is forwarded, so there is nothing to reverse. */
        env->ops->stat(env, BS_STAT_PEER_DOWN_DECLINED, 1);
        bs_node_note(node, BS_J_STATE, a->cfg.sw, m, trace,
                     bs__nm_signed_off(&a->nm) ? "signed off: declined RC 91"
                                               : "switch down: declined RC 91, nothing forwarded");
        bs_node_reject(node, a->cfg.dialect, a->cfg.terminals, m, "91", trace);
        return;
    }
    if (bs__pool_alloc(&a->txns, &idx) != 0) {
        bs_node_reject(node, a->cfg.dialect, a->cfg.terminals, m, "96", trace);
        return;
    }
    x = bs__pool_at(&a->txns, idx);
    x->state = ST_PENDING;
    x->tkey = tk;
    x->content = bs__content_hash(m);
    x->channel = (uint8_t)bs_channel_of(m);
    x->trace = trace;
    x->cancelled = false;
    memcpy(x->mti, m->mti, sizeof(x->mti));
    copy_str(m, 11, x->term_stan, sizeof(x->term_stan));
    copy_str(m, 7, x->term_dt, sizeof(x->term_dt));
    copy_str(m, 2, x->pan, sizeof(x->pan));
    copy_str(m, 3, x->proc, sizeof(x->proc));
    copy_str(m, 4, x->amount, sizeof(x->amount));
    copy_str(m, 49, x->currency, sizeof(x->currency));
    copy_str(m, 41, x->tid, sizeof(x->tid));
    copy_str(m, 42, x->mid, sizeof(x->mid));

    bs_format_times(bs_node_now(node), 0, de7, NULL, NULL);
    make_rrn(a, bs_node_now(node), rrn);
    memcpy(x->rrn, rrn, sizeof(rrn));

    rc = bs_iso_msg_set_str(m, 7, de7);
    rc = rc ? rc : bs_iso_msg_set_num(m, 11, take_stan(a), 6);
    rc = rc ? rc : bs_iso_msg_set_str(m, 32, a->inst_id);
    rc = rc ? rc : bs_iso_msg_set_str(m, 37, rrn);
    if (rc == 0) {
        bs__tkey_from_msg(m, &x->key);
        rc = index_record(a, idx);
    }
    if (rc == 0) {
        x = bs__pool_at(&a->txns, idx);
        x->htkey = bs__tkey_hash(&x->tkey);
        rc = bs__map_put(&a->by_term, x->htkey, idx);
        if (rc)
            x->htkey = 0;
    }
    if (rc == 0)
        rc = bs_node_send(node, a->cfg.dialect, a->cfg.sw, m, trace);
    if (rc != 0) {
        release(a, idx);
        return;
    }
    x = bs__pool_at(&a->txns, idx);
    env->ops->timer(env, node->id, a->cfg.timers[x->channel].acquirer, TIMER_RESPONSE,
                    bs__cookie(idx, x->hdr.gen));
}

/* The terminal's answer, built from what was kept of its request. */
static void answer_terminal(struct acquirer *a, const struct acq_txn *x,
                            const struct bs_iso_msg *resp, const char *rc)
{
    struct bs_iso_msg m;
    int err;

    char mti[5];

    if (resp) {
        bs_iso_msg_copy(&m, resp); /* the used part only, not the 9 KB struct */
    } else {
        if (bs_mti_response(x->mti, mti) != 0)
            return;
        bs_iso_msg_init(&m, mti);
        err = bs_iso_msg_set_str(&m, 2, x->pan);
        err = err ? err : bs_iso_msg_set_str(&m, 3, x->proc);
        err = err ? err : bs_iso_msg_set_str(&m, 4, x->amount);
        err = err ? err : bs_iso_msg_set_str(&m, 37, x->rrn);
        err = err ? err : bs_iso_msg_set_str(&m, 41, x->tid);
        err = err ? err : bs_iso_msg_set_str(&m, 42, x->mid);
        err = err ? err : bs_iso_msg_set_str(&m, 49, x->currency);
        err = err ? err : bs_iso_msg_set_str(&m, 39, rc);
        if (err == 0 && x->auth[0])
            err = bs_iso_msg_set_str(&m, 38, x->auth);
        if (err)
            return;
    }
    if (bs_iso_msg_set_str(&m, 11, x->term_stan) || bs_iso_msg_set_str(&m, 7, x->term_dt))
        return;
    bs_iso_msg_unset(&m, 32);
    bs_iso_msg_unset(&m, 33);
    bs_node_send(&a->base, a->cfg.dialect, a->cfg.terminals, &m, x->trace);
}

/* Reverse the request @x sent to the switch: the canonical form of that 0200. @reason is
 * the reversal's DE 39: 68 (no response in time) or 17 (customer cancellation). */
static void start_reversal(struct acquirer *a, struct acq_txn *x, const char *why,
                           const char *reason)
{
    struct bs_canon c;

    memset(&c, 0, sizeof(c));
    memcpy(c.mti, x->mti, 5);
    memcpy(c.rc, reason, 3);
    memcpy(c.pan, x->pan, sizeof(c.pan));
    memcpy(c.proc, x->proc, sizeof(c.proc));
    c.amount = strtoll(x->amount, NULL, 10);
    c.billing = -1;
    memcpy(c.dt, x->key.dt, sizeof(c.dt));
    memcpy(c.stan, x->key.stan, sizeof(c.stan));
    memcpy(c.acq, a->inst_id, sizeof(c.acq));
    memcpy(c.rrn, x->rrn, sizeof(c.rrn));
    memcpy(c.tid, x->tid, sizeof(c.tid));
    memcpy(c.mid, x->mid, sizeof(c.mid));
    memcpy(c.currency, x->currency, sizeof(c.currency));
    bs__revq_start(&a->revq, a->cfg.sw, a->cfg.dialect, &c, why, x->trace);
}

/*
 * The cardholder cancels an approved transaction at the terminal (0400, DE 90 naming the
 * terminal's 0200 by its STAN and DE 7; the terminal is DE 41). The acquirer answers 0410
 * at once and, the first time only, reverses the transaction towards its switch as a
 * 0420 with DE 39 17 (customer cancellation), repeated like a timeout reversal until
 * acknowledged. A repeated 0400 is answered again without a second reversal; RC 25 when
 * no such transaction is known (any more).
 */
static void cancellation(struct acquirer *a, const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_node *node = &a->base;
    struct bs_iso_msg resp;
    struct bs__tkey tk;
    struct acq_txn *x;
    uint32_t idx;
    char de90[43];
    const char *rc = "00", *why;

    memset(&tk, 0, sizeof(tk));
    tk.cls = '2';
    copy_str(m, 41, tk.acq, sizeof(tk.acq));
    copy_str(m, 90, de90, sizeof(de90));
    if (strlen(de90) < 20) {
        bs_node_reject(node, a->cfg.dialect, a->cfg.terminals, m, "30", trace);
        return;
    }
    memcpy(tk.stan, de90 + 4, 6);
    memcpy(tk.dt, de90 + 10, 10);
    x = bs__tkey_find(&a->by_term, &a->txns, offsetof(struct acq_txn, tkey), &tk, &idx);
    if (!x) {
        rc = "25";
        why = "cancellation: original not found";
    } else if (x->cancelled) {
        why = "cancellation repeated: already under way";
    } else if (x->state != ST_DONE || strcmp(x->rc, "00") != 0) {
        why = "cancellation: the original was not approved, nothing to undo";
    } else {
        x->cancelled = true;
        why = "cancellation: reversing towards the switch";
        start_reversal(a, x, "cardholder cancellation", "17");
    }
    bs_node_note(node, BS_J_REVERSAL, a->cfg.terminals, m, trace, why);
    if (bs_msg_make_response(m, &resp, rc) == 0)
        bs_node_send(node, a->cfg.dialect, a->cfg.terminals, &resp, trace);
}

static void handle_switch_message(struct acquirer *a, struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_node *node = &a->base;
    struct bs_env *env = node->env;
    struct bs__tkey k;
    struct acq_txn *x;
    uint32_t idx;

    if (!bs_mti_is_response(m->mti)) {
        bs_node_reject(node, a->cfg.dialect, a->cfg.sw, m, "12", trace);
        return;
    }
    if (bs__revq_on_response(&a->revq, m))
        return;
    bs__tkey_from_msg(m, &k);
    x = find(a, &k, &idx);
    if (!x) {
        env->ops->stat(env, BS_STAT_UNMATCHED, 1);
        bs_node_note(node, BS_J_UNMATCHED, a->cfg.sw, m, trace, "no request with this key");
        return;
    }
    if (x->state == ST_DONE) {
        env->ops->stat(env, BS_STAT_DUPLICATE, 1);
        bs_node_note(node, BS_J_DUPLICATE, a->cfg.sw, m, x->trace,
                     "second response: the terminal has its answer");
        return;
    }
    if (x->state != ST_PENDING) {
        /* After the timer: the terminal has its answer and the reversal goes on. */
        env->ops->stat(env, BS_STAT_LATE_RESPONSE, 1);
        bs_node_note(node, BS_J_LATE, a->cfg.sw, m, x->trace,
                     "after acquirer timeout; reversal continues");
        return;
    }
    answer_terminal(a, x, m, NULL);
    /* Kept for a while so a repeat from the terminal gets this answer again. */
    x->state = ST_DONE;
    if (bs_iso_msg_get_str(m, 39, x->rc, sizeof(x->rc)) < 0)
        memcpy(x->rc, "96", 3);
    if (bs_iso_msg_get_str(m, 38, x->auth, sizeof(x->auth)) < 0)
        x->auth[0] = '\0';
    bs__expire_add(&a->expire, node, idx, x->hdr.gen, LATE_GRACE);
}

static void on_message(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                       uint64_t trace)
{
    struct acquirer *a = (struct acquirer *)node;
    struct bs_iso_msg m;
    enum bs_sig_status st;
    int rc = bs_node_recv(node, a->cfg.dialect, from, buf, n, trace, &m, &st);

    if (rc == BS_EFORMAT || rc == BS_ESIG) {
        bs_node_reject(node, a->cfg.dialect, from, &m, rc == BS_ESIG ? "63" : "30", trace);
        return;
    }
    if (from == a->cfg.sw && bs__nm_on_message(&a->nm, a->cfg.dialect, from, &m, trace))
        return;
    if (from == a->cfg.terminals)
        handle_terminal_request(a, &m, trace);
    else if (from == a->cfg.sw)
        handle_switch_message(a, &m, trace);
}

static void on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    struct acquirer *a = (struct acquirer *)node;
    struct bs_env *env = node->env;
    uint32_t idx = (uint32_t)cookie;
    struct acq_txn *x;

    if (kind == TIMER_REVERSAL) {
        bs__revq_on_timer(&a->revq, cookie);
        return;
    }
    if (kind == TIMER_FORGET) {
        bs__expire_sweep(&a->expire, node, &a->txns, release_txn, a);
        return;
    }
    if (kind == TIMER_NETMGMT) {
        bs__nm_on_timer(&a->nm, cookie);
        return;
    }
    x = bs__pool_live(&a->txns, idx, (uint32_t)(cookie >> 32));
    if (!x)
        return;
    if (kind == TIMER_RESPONSE && x->state == ST_PENDING) {
        x->state = ST_TIMED_OUT;
        env->ops->stat(env, BS_STAT_ACQ_TIMEOUT, 1);
        bs_node_note(node, BS_J_TIMEOUT, a->cfg.sw, NULL, x->trace, "no response from switch");
        memcpy(x->rc, "91", 3);
        answer_terminal(a, x, NULL, "91");
        /* A balance inquiry moved no money: there is nothing to reverse. */
        if (bs_txn_type_of_proc(x->proc) != BS_TXN_BALANCE_INQUIRY)
            start_reversal(a, x, "acquirer timeout", "68");
        x = bs__pool_at(&a->txns, idx);
        bs__expire_add(&a->expire, node, idx, x->hdr.gen, LATE_GRACE);
    }
}

static void acq_free(struct bs_node *node)
{
    struct acquirer *a = (struct acquirer *)node;

    bs__revq_deinit(&a->revq);
    bs__expire_deinit(&a->expire);
    bs__pool_deinit(&a->txns);
    bs__map_deinit(&a->by_key);
    bs__map_deinit(&a->by_term);
    bs_free(a);
}

static void on_admin(struct bs_node *node, int event)
{
    bs__nm_admin(&((struct acquirer *)node)->nm, event);
}

static const struct bs_node_ops acquirer_ops = { on_message, on_timer, acq_free, on_admin };

int bs_acquirer_new(const struct bs_acquirer_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                    struct bs_node **ret)
{
    struct acquirer *a;
    int rc;

    if (!cfg || !cfg->dialect || !cfg->inst_id || strlen(cfg->inst_id) > 11 ||
        cfg->reversal_backoff <= 0 || cfg->rrn_code > 99)
        return BS_EINVAL;
    a = bs_calloc(1, sizeof(*a));
    if (!a)
        return BS_ENOMEM;
    rc = bs_node_base_init(&a->base, &acquirer_ops, cfg->name, key, keys);
    if (rc)
        goto fail;
    a->cfg = *cfg;
    snprintf(a->inst_id, sizeof(a->inst_id), "%s", cfg->inst_id);
    a->cfg.inst_id = a->inst_id;
    a->next_stan = 1;
    bs__pool_init(&a->txns, sizeof(struct acq_txn), 4000000);
    bs__expire_init(&a->expire, TIMER_FORGET);
    rc = bs__map_init(&a->by_key, 1024, 4000000);
    if (rc == 0)
        rc = bs__map_init(&a->by_term, 1024, 4000000);
    if (rc)
        goto fail_map;
    rc = bs__revq_init(&a->revq, &a->base, TIMER_REVERSAL, a->inst_id, &a->next_stan,
                       cfg->reversal_max_repeats, cfg->reversal_backoff, cfg->reversal_backoff_max);
    if (rc)
        goto fail_map;
    bs__nm_init(&a->nm, &a->base, TIMER_NETMGMT, NULL, NULL);
    rc = bs__nm_add_peer(&a->nm, cfg->sw, cfg->dialect, &cfg->nm, &a->next_stan);
    if (rc)
        goto fail_revq;
    *ret = &a->base;
    return 0;
fail_revq:
    bs__revq_deinit(&a->revq);
fail_map:
    bs__map_deinit(&a->by_key);
    bs__map_deinit(&a->by_term);
fail:
    bs_free(a);
    return rc;
}

size_t bs_acquirer_open_reversals(const struct bs_node *node)
{
    return ((const struct acquirer *)node)->revq.open;
}
