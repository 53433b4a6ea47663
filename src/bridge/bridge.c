/*
 * The clearing bridge node; see bridgesim/bridge.h. Each request from one scheme opens a
 * leg: the inbound key (the sender's DE 32, DE 11, DE 7) and the outbound key (the
 * bridge's own DE 32, STAN and DE 7 in the other scheme) both index it, so responses,
 * repeats and reversals (through DE 90) find it from either side.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/bridge.h>

#include "common/fmt.h"
#include "common/map.h"
#include "common/pool.h"
#include "network/expire.h"
#include "network/netmgmt.h"
#include "network/revq.h"
#include "network/stip.h"
#include "network/txnkey.h"

/* Timer kinds; TIMER_REVERSAL + side is the reversal queue of that side. */
enum {
    TIMER_RESPONSE = 1,
    TIMER_FORGET = 2,
    TIMER_NETMGMT = 4,
    TIMER_REVERSAL = 8,
    TIMER_SAF = 10
};

enum leg_state { LEG_PENDING = 1, LEG_DONE, LEG_TIMED_OUT };

/*
 * A leg's full inbound request, kept only while the bridge may still send from it: until a
 * financial leg is answered (or given up), for the whole life of a reversal leg (which
 * repeats towards the other scheme). A finished financial leg keeps only struct leg, about
 * half the size, for the retention time (issue #8: memory per transaction in flight).
 */
struct hot {
    struct bs__pool_hdr hdr;
    struct bs_canon req;           /* the inbound request, track data wiped */
    uint8_t pin[BS_PIN_BLOCK_MAX]; /* DE 52 under the outbound zone's key, until forwarded */
    uint8_t pin_len;
};

/* What clearing needs of the acquiring side's request (docs/settlement.md), kept for the
 * leg's whole life so a reversal long after the answer still clears against it. */
struct clr {
    char mti[5];
    char acq[12], stan[7], dt[11], rrn[13], proc[7], pan[20];
    int64_t amount;
};

struct leg {
    struct bs__pool_hdr hdr;
    uint8_t from; /* side the request came from */
    uint8_t state;
    uint8_t channel;
    bool is_reversal;
    struct bs__tkey in, out;
    uint64_t hin, hout;
    uint64_t trace;
    int64_t billing;
    char rate[9];
    char out_rrn[13];
    char rc[3], auth[7];
    char addl[2 * BS_ADDL_AMOUNT_LEN + 1]; /* DE 54 answered to the acquiring side */
    uint8_t type;     /* enum bs_txn_type of the request (bs_txn_type_of_proc) */
    bool committed;   /* an approval was answered to the acquiring side */
    bool reversed;    /* a reversal of this committed leg was acknowledged */
    bool stand_in;    /* approved by the bridge in stand-in */
    uint64_t content; /* bs__content_hash of the inbound request */
    uint32_t orig;    /* reversal legs: the original leg's index and generation */
    uint32_t orig_gen;
    bool has_hot; /* b->hot[hot] holds the full request */
    uint32_t hot, hot_gen;
    struct clr clr;
};

struct bridge {
    struct bs_node base;
    struct bs_bridge_cfg cfg;
    char names[2][32];
    char inst[2][12];
    /* Applied rates (markup up and down) of each mid rate: [0] the configured one, then
     * one per bs_fx_change; @rate_at[i] is when rate i comes into force. */
    struct bs_rate applied_up[BS_BRIDGE_MAX_RATES + 1], applied_down[BS_BRIDGE_MAX_RATES + 1];
    bs_time_us rate_at[BS_BRIDGE_MAX_RATES + 1];
    size_t nrates;
    size_t last_rate; /* the rate of the last conversion, to count changes */
    struct bs__pool legs;
    struct bs__pool hot; /* struct hot of the legs that still need their request */
    struct bs__map by_in, by_out;
    uint32_t next_stan[2];
    uint32_t rrn_seq;
    struct bs__revq revq[2]; /* reversals the bridge originates in each scheme */
    struct bs__revq saf[2];  /* stand-in advices towards each scheme (SAF) */
    struct bs__stip stip[2]; /* stand-in for each scheme's cards */
    /* Billing amounts committed and reversed, by the card's side (issuer currency). */
    int64_t committed[2], reversed[2];
    struct bs__expire expire; /* legs are kept for the retention time */
    struct bs__nm nm;         /* 0800/0810 with both switches */
};

static struct leg *find(struct bridge *b, const struct bs__tkey *k, bool out, uint32_t *ret)
{
    return out ? bs__tkey_find(&b->by_out, &b->legs, offsetof(struct leg, out), k, ret)
               : bs__tkey_find(&b->by_in, &b->legs, offsetof(struct leg, in), k, ret);
}

/* The full request of leg @l, or NULL once the leg no longer keeps it. */
static struct hot *hot_of(const struct bridge *b, const struct leg *l)
{
    return l->has_hot ? bs__pool_live(&b->hot, l->hot, l->hot_gen) : NULL;
}

/* Forget @l's full request (wiped): it keeps what clearing and repeats need. */
static void drop_hot(struct bridge *b, struct leg *l)
{
    struct hot *h = hot_of(b, l);

    l->has_hot = false;
    if (!h)
        return;
    bs_wipe(&h->req, sizeof(h->req));
    bs_wipe(h->pin, sizeof(h->pin));
    bs__pool_release(&b->hot, l->hot);
}

static void release(struct bridge *b, uint32_t idx)
{
    struct leg *l = bs__pool_at(&b->legs, idx);

    bs__map_del(&b->by_in, l->hin, idx);
    if (l->hout)
        bs__map_del(&b->by_out, l->hout, idx);
    drop_hot(b, l);
    bs_wipe(&l->clr, sizeof(l->clr));
    bs__pool_release(&b->legs, idx);
}

static void release_leg(void *ctx, uint32_t idx)
{
    release(ctx, idx);
}

/* The index of the rate in force now. */
static size_t rate_now(const struct bridge *b)
{
    size_t i = 0;

    if (!b->base.env)
        return 0;
    while (i + 1 < b->nrates && b->rate_at[i + 1] <= b->base.env->now)
        i++;
    return i;
}

/* Convert at applied rate set @ri; @credit: a credit to the cardholder (refund). */
static int convert(const struct bridge *b, size_t ri, int64_t amount, uint16_t from, uint16_t to,
                   bool credit, int64_t *ret_billing, char ret_de10[9])
{
    const struct bs_bridge_side *sf = NULL, *st = NULL;
    bool base_to_quote;
    struct bs_rate r;
    int rc;

    for (int i = 0; i < 2; i++) {
        if (b->cfg.side[i].currency == from)
            sf = &b->cfg.side[i];
        if (b->cfg.side[i].currency == to)
            st = &b->cfg.side[i];
    }
    if (!sf || !st || sf == st)
        return BS_EINVAL;
    /* The markup always works against the cardholder: more quote units per base unit
     * when the card pays in the quote currency, fewer when it pays in the base. */
    base_to_quote = from == b->cfg.base_currency;
    r = base_to_quote != credit ? b->applied_up[ri] : b->applied_down[ri];
    rc = bs_fx_convert(amount, sf->exponent, st->exponent, r, base_to_quote, ret_billing);
    if (rc)
        return rc;
    return bs_rate_de10(r, ret_de10);
}

int bs_bridge_convert(const struct bs_node *node, int64_t amount, uint16_t from, uint16_t to,
                      int64_t *ret_billing, char ret_de10[9])
{
    const struct bridge *b = (const struct bridge *)node;

    return convert(b, rate_now(b), amount, from, to, false, ret_billing, ret_de10);
}

int bs_bridge_convert_credit(const struct bs_node *node, int64_t amount, uint16_t from, uint16_t to,
                             int64_t *ret_billing, char ret_de10[9])
{
    const struct bridge *b = (const struct bridge *)node;

    return convert(b, rate_now(b), amount, from, to, true, ret_billing, ret_de10);
}

/*
 * DE 54 towards the acquiring side of balance inquiry @l: the issuer's available-balance
 * set, in the card's currency, as it came; then the same balance in the acquirer's
 * currency, what a withdrawal there could take: converted back at the rate the bridge
 * applies now to a withdrawal in that direction (markup against the cardholder), rounded
 * half up. Other sets and malformed values are passed on unchanged and not converted.
 */
static void balance_for_acquirer(struct bridge *b, struct leg *l, const struct bs_iso_msg *resp)
{
    int A = l->from, I = !A;
    struct bs_addl_amount a;
    const uint8_t *v;
    size_t n, ri = rate_now(b);
    bool acq_base = b->cfg.side[A].currency == b->cfg.base_currency;
    struct bs_rate r = acq_base ? b->applied_up[ri] : b->applied_down[ri];
    int64_t conv;
    char set[BS_ADDL_AMOUNT_LEN + 1];

    l->addl[0] = '\0';
    v = bs_iso_msg_get(resp, 54, &n);
    if (!v || n >= sizeof(l->addl))
        return;
    memcpy(l->addl, v, n);
    l->addl[n] = '\0';
    if (n != BS_ADDL_AMOUNT_LEN || bs_addl_amount_parse(l->addl, n, 0, &a) != 0 ||
        a.currency != b->cfg.side[I].currency)
        return;
    if (bs_fx_convert(a.amount, b->cfg.side[I].exponent, b->cfg.side[A].exponent, r, !acq_base,
                      &conv) != 0)
        return;
    a.currency = b->cfg.side[A].currency;
    a.amount = conv;
    if (bs_addl_amount_format(&a, set) == 0)
        memcpy(l->addl + n, set, sizeof(set));
}

static int side_of(const struct bridge *b, uint32_t from)
{
    if (from == b->cfg.side[0].sw)
        return 0;
    if (from == b->cfg.side[1].sw)
        return 1;
    return -1;
}

static void make_rrn(struct bridge *b, bs_time_us now, char out[13])
{
    int h, mi;

    bs_civil_from_us(now, 0, NULL, NULL, NULL, &h, &mi, NULL, NULL);
    b->rrn_seq = b->rrn_seq >= 9999999 ? 1 : b->rrn_seq + 1;
    out[0] = 'B';
    bs__put_dec(out + 1, (unsigned)h, 2);
    bs__put_dec(out + 3, (unsigned)mi, 2);
    *bs__put_dec(out + 5, b->rrn_seq, 7) = '\0';
}

static void report_clearing(struct bridge *b, const struct leg *l, enum bs_clearing_kind kind)
{
    struct bs_clearing_record r;
    /* A refund credits the card: it counts against what the card's side owes. */
    int64_t v = l->type == BS_TXN_REFUND ? -l->billing : l->billing;
    struct bs_canon c;

    if (kind == BS_CLR_FINANCIAL)
        b->committed[!l->from] += v;
    else
        b->reversed[!l->from] += v;

    if (!b->cfg.clearing)
        return;
    memset(&r, 0, sizeof(r));
    memset(&c, 0, sizeof(c));
    memcpy(c.mti, l->clr.mti, sizeof(c.mti));
    memcpy(c.acq, l->clr.acq, sizeof(c.acq));
    memcpy(c.stan, l->clr.stan, sizeof(c.stan));
    memcpy(c.dt, l->clr.dt, sizeof(c.dt));
    memcpy(c.rrn, l->clr.rrn, sizeof(c.rrn));
    memcpy(c.proc, l->clr.proc, sizeof(c.proc));
    memcpy(c.pan, l->clr.pan, sizeof(c.pan));
    c.amount = l->clr.amount;
    r.kind = kind;
    r.t = b->base.env->now;
    r.acq_side = l->from;
    r.iss_side = !l->from;
    r.req = &c;
    r.amount = l->clr.amount;
    r.billing = l->billing;
    r.acq_currency = b->cfg.side[l->from].currency;
    r.iss_currency = b->cfg.side[!l->from].currency;
    memcpy(r.rate, l->rate, sizeof(r.rate));
    r.stand_in = l->stand_in;
    b->cfg.clearing(b->cfg.clearing_ctx, &r);
    bs_wipe(&c, sizeof(c));
}

/*
 * Answer leg @l to the acquiring side: the response to its request, from the request it
 * keeps, or, once it no longer does, from @repeat — a repeat of it, which has the same key
 * and content (its caller checked), so the same response. @resp: the other scheme's
 * response when this answer relays one (NULL for a stored or a bridge's own answer).
 */
static void answer(struct bridge *b, struct leg *l, const struct bs_iso_msg *resp,
                   const struct bs_iso_msg *repeat)
{
    const struct hot *h = hot_of(b, l);
    struct bs_canon c;
    char mti[5];
    struct bs_iso_msg m;

    if (h)
        c = h->req;
    else if (!repeat || bs_canon_from_msg(repeat, &c) != 0)
        return;
    memcpy(c.mti, l->clr.mti, sizeof(c.mti));
    if (bs_mti_response(l->clr.mti, mti) != 0)
        return;
    memcpy(c.mti, mti, 5);
    memcpy(c.rc, l->rc, 3);
    memcpy(c.auth, l->auth, 7);
    /* Responses carry no card-reading data. */
    c.track2[0] = c.expiry[0] = c.pos_entry[0] = c.pos_cond[0] = c.mcc[0] = '\0';
    c.acceptor[0] = '\0';
    if (l->billing >= 0 && l->rate[0]) {
        c.billing = l->billing;
        memcpy(c.rate, l->rate, 9);
        *bs__put_dec(c.billing_currency, b->cfg.side[!l->from].currency % 1000, 3) = '\0';
    }
    if (resp && l->type == BS_TXN_BALANCE_INQUIRY && strcmp(l->rc, "00") == 0)
        balance_for_acquirer(b, l, resp);
    if (bs_canon_to_msg(&c, &m) == 0 && (!l->addl[0] || bs_iso_msg_set_str(&m, 54, l->addl) == 0))
        bs_node_send(&b->base, b->cfg.side[l->from].dialect, b->cfg.side[l->from].sw, &m, l->trace);
    bs_wipe(&c, sizeof(c));
    /* An approval answered to the acquiring side is committed, once; a balance inquiry
     * moves no money and is neither cleared nor settled. */
    if (!l->is_reversal && !l->committed && strcmp(l->rc, "00") == 0 &&
        l->type != BS_TXN_BALANCE_INQUIRY) {
        l->committed = true;
        report_clearing(b, l, BS_CLR_FINANCIAL);
    }
}

/* Answer a request the bridge decides itself (RC 12, 13, 15, 91, 92 ...). */
static void decline(struct bridge *b, int side, const struct bs_iso_msg *m, const char *rc,
                    uint64_t trace)
{
    bs_node_reject(&b->base, b->cfg.side[side].dialect, b->cfg.side[side].sw, m, rc, trace);
}

/* The leg's request as the other scheme sees it: the bridge's identifiers and billing. */
static void outbound(const struct bridge *b, const struct leg *l, struct bs_canon *ret)
{
    struct bs_canon c = hot_of(b, l)->req;
    int to = !l->from;

    memcpy(c.stan, l->out.stan, sizeof(c.stan));
    memcpy(c.dt, l->out.dt, sizeof(c.dt));
    memcpy(c.acq, b->inst[to], sizeof(c.acq));
    memcpy(c.fwd, b->inst[to], sizeof(c.fwd));
    memcpy(c.rrn, l->out_rrn, sizeof(c.rrn));
    c.billing = l->billing;
    memcpy(c.rate, l->rate, sizeof(c.rate));
    *bs__put_dec(c.billing_currency, b->cfg.side[to].currency % 1000, 3) = '\0';
    *ret = c;
}

static void forward(struct bridge *b, uint32_t idx, bool repeat)
{
    struct bs_env *env = b->base.env;
    struct leg *l = bs__pool_at(&b->legs, idx);
    const struct hot *h = hot_of(b, l);
    int to = !l->from;
    struct bs_canon c;
    struct bs_iso_msg m;

    bool pin;

    if (!h)
        return; /* a finished financial leg is never sent again */
    pin = h->pin_len != 0;
    outbound(b, l, &c);
    if (repeat && l->is_reversal)
        memcpy(c.mti, "0421", 5);
    if (bs_canon_to_msg(&c, &m) == 0 && (!pin || bs_iso_msg_set(&m, 52, h->pin, h->pin_len) == 0))
        bs_node_send(&b->base, b->cfg.side[to].dialect, b->cfg.side[to].sw, &m, l->trace);
    bs_wipe(&c, sizeof(c));
    if (pin)
        bs_wipe(&m, sizeof(m));
    l = bs__pool_at(&b->legs, idx);
    l->state = LEG_PENDING;
    env->ops->timer(env, b->base.id, b->cfg.timers[l->channel].bridge, TIMER_RESPONSE,
                    bs__cookie(idx, l->hdr.gen));
}

static void side_down(struct bridge *b, uint32_t idx);

static void handle_request(struct bridge *b, int from, struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_env *env = b->base.env;
    struct bs__tkey in, orig;
    struct leg *l, *o = NULL;
    struct hot *h;
    uint32_t idx, oidx, hidx, target;
    int to = !from;
    int64_t billing = -1;
    char rate[9] = "";
    bool reversal = m->mti[1] == '4';
    size_t panlen, pinlen;
    const uint8_t *pan, *pin;
    int rc;

    bs__tkey_from_msg(m, &in);
    if ((l = find(b, &in, false, &idx)) != NULL) {
        /* A repeat or duplicate of a leg the bridge already has: the stored answer (or,
         * still in flight, the answer in due course; a reversal repeat goes on as 0421);
         * a different request under the same key is RC 94. Never forwarded twice. */
        if (l->content != bs__content_hash(m)) {
            env->ops->stat(env, BS_STAT_DUPLICATE_MISMATCH, 1);
            bs_node_note(&b->base, BS_J_DUPLICATE, b->cfg.side[from].sw, m, trace,
                         "same key, different content: RC 94");
            decline(b, from, m, "94", trace);
            return;
        }
        env->ops->stat(env, BS_STAT_DUPLICATE, 1);
        bs_node_note(&b->base, BS_J_DUPLICATE, b->cfg.side[from].sw, m, trace,
                     l->state == LEG_PENDING ? "repeat: in flight" : "repeat: stored response");
        if (l->is_reversal && (l->state != LEG_DONE || strcmp(l->rc, "00") != 0))
            forward(b, idx, true); /* not yet acknowledged by the other scheme: repeat */
        else if (l->state != LEG_PENDING)
            answer(b, l, NULL, m);
        return;
    }
    if (!reversal && strcmp(m->mti, "0200") != 0 && strcmp(m->mti, "0100") != 0) {
        decline(b, from, m, "12", trace);
        return;
    }
    if (!reversal && bs__nm_signed_off(&b->nm)) {
        /* Signed off: out of service for new requests (ISO 8583 RC 91). */
        decline(b, from, m, "91", trace);
        return;
    }
    pan = bs_iso_msg_get(m, 2, &panlen);
    if (!pan || bs_bin_lookup(b->cfg.routes, (const char *)pan, panlen, &target) != 0) {
        decline(b, from, m, "15", trace);
        return;
    }
    if ((int)target != to) {
        decline(b, from, m, "92", trace);
        return;
    }
    if (reversal) {
        if (bs__tkey_from_de90(m, &orig) != 0) {
            decline(b, from, m, "30", trace);
            return;
        }
        o = find(b, &orig, false, &oidx);
        if (!o) {
            /* The bridge never forwarded the original: nothing to undo anywhere. */
            bs_node_note(&b->base, BS_J_REVERSAL, b->cfg.side[from].sw, m, trace,
                         "original not seen: acknowledged, nothing forwarded");
            decline(b, from, m, "00", trace);
            return;
        }
        billing = o->billing;
        memcpy(rate, o->rate, sizeof(rate));
    } else {
        int64_t amount, cur;
        if (bs_iso_msg_get_num(m, 4, &amount) != 0 || bs_iso_msg_get_num(m, 49, &cur) != 0 ||
            cur != b->cfg.side[from].currency) {
            decline(b, from, m, "12", trace);
            return;
        }
        char proc[7] = "";
        size_t ri = rate_now(b);
        bs_iso_msg_get_str(m, 3, proc, sizeof(proc));
        rc = convert(b, ri, amount, (uint16_t)cur, b->cfg.side[to].currency,
                     bs_txn_type_of_proc(proc) == BS_TXN_REFUND, &billing, rate);
        if (rc == 0 && ri != b->last_rate) {
            /* The first conversion at a new rate of the schedule. */
            env->ops->stat(env, BS_STAT_FX_RATE_CHANGE, 1);
            b->last_rate = ri;
        }
        if (rc != 0 || !bs_amount_fits(billing, 12)) {
            decline(b, from, m, "13", trace);
            return;
        }
    }
    if (bs__pool_alloc(&b->legs, &idx) != 0) {
        decline(b, from, m, "96", trace);
        return;
    }
    if (bs__pool_alloc(&b->hot, &hidx) != 0) {
        bs__pool_release(&b->legs, idx);
        decline(b, from, m, "96", trace);
        return;
    }
    l = bs__pool_at(&b->legs, idx);
    h = bs__pool_at(&b->hot, hidx);
    l->has_hot = true;
    l->hot = hidx;
    l->hot_gen = h->hdr.gen;
    if (bs_canon_from_msg(m, &h->req) != 0) {
        release(b, idx);
        decline(b, from, m, "30", trace);
        return;
    }
    /* DE 52: PIN translation from the acquiring zone's PIN key to the issuing zone's, inside
     * the HSM (ISO 9564-1; format 0 to format 4 when that zone's key is AES). A block that
     * does not decipher is declined as a wrong PIN; its bytes are kept until forwarded. */
    h->pin_len = 0;
    if (!reversal && b->base.hsm && (pin = bs_iso_msg_get(m, 52, &pinlen)) != NULL) {
        int n = bs_hsm_pin_translate(b->base.hsm, (unsigned)from, (unsigned)to, h->req.pan, pin,
                                     pinlen, h->pin, sizeof(h->pin));
        if (n < 0) {
            release(b, idx);
            decline(b, from, m, "55", trace);
            return;
        }
        h->pin_len = (uint8_t)n;
    }
    memcpy(l->clr.mti, h->req.mti, sizeof(l->clr.mti));
    memcpy(l->clr.acq, h->req.acq, sizeof(l->clr.acq));
    memcpy(l->clr.stan, h->req.stan, sizeof(l->clr.stan));
    memcpy(l->clr.dt, h->req.dt, sizeof(l->clr.dt));
    memcpy(l->clr.rrn, h->req.rrn, sizeof(l->clr.rrn));
    memcpy(l->clr.proc, h->req.proc, sizeof(l->clr.proc));
    memcpy(l->clr.pan, h->req.pan, sizeof(l->clr.pan));
    l->clr.amount = h->req.amount;
    l->from = (uint8_t)from;
    l->channel = (uint8_t)bs_channel_of(m);
    l->type = (uint8_t)bs_txn_type_of_proc(h->req.proc);
    l->addl[0] = '\0';
    l->is_reversal = reversal;
    l->trace = trace;
    l->billing = billing;
    memcpy(l->rate, rate, sizeof(rate));
    l->in = in;
    l->hin = bs__tkey_hash(&in);
    l->content = bs__content_hash(m);
    l->out.cls = in.cls;
    bs__put_str(l->out.acq, sizeof(l->out.acq), b->inst[to]);
    *bs__put_dec(l->out.stan, b->next_stan[to], 6) = '\0';
    b->next_stan[to] = b->next_stan[to] >= 999999 ? 1 : b->next_stan[to] + 1;
    bs_format_times(bs_node_now(&b->base), 0, l->out.dt, NULL, NULL);
    l->hout = bs__tkey_hash(&l->out);
    if (reversal) {
        o = bs__pool_at(&b->legs, oidx);
        l->orig = oidx;
        l->orig_gen = o->hdr.gen;
        memcpy(l->out_rrn, o->out_rrn, sizeof(l->out_rrn));
        /* DE 90 names the original as the other scheme saw it: the bridge's leg. */
        snprintf(h->req.orig, sizeof(h->req.orig), "0200%s%s%011llu%011u", o->out.stan, o->out.dt,
                 strtoull(b->inst[to], NULL, 10), 0u);
    } else {
        make_rrn(b, bs_node_now(&b->base), l->out_rrn);
    }
    if (bs__map_put(&b->by_in, l->hin, idx) != 0) {
        drop_hot(b, l);
        bs_wipe(&l->clr, sizeof(l->clr));
        bs__pool_release(&b->legs, idx);
        decline(b, from, m, "96", trace);
        return;
    }
    if (bs__map_put(&b->by_out, l->hout, idx) != 0) {
        l->hout = 0;
        release(b, idx);
        decline(b, from, m, "96", trace);
        return;
    }
    if (!reversal && !bs__nm_peer_up(&b->nm, b->cfg.side[to].sw))
        side_down(b, idx);
    else
        forward(b, idx, false);
    l = bs__pool_at(&b->legs, idx);
    /* Card-reading data went out with the request; the bridge keeps none of it. */
    if ((h = hot_of(b, l)) != NULL) {
        bs_wipe(h->req.track2, sizeof(h->req.track2));
        bs_wipe(h->pin, sizeof(h->pin));
        h->pin_len = 0;
    }
    bs__expire_add(&b->expire, &b->base, idx, l->hdr.gen, b->cfg.retention);
}

static void handle_response(struct bridge *b, int from, struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_env *env = b->base.env;
    struct bs__tkey k;
    struct leg *l;
    uint32_t idx;

    if (bs__revq_on_response(&b->revq[from], m) || bs__revq_on_response(&b->saf[from], m))
        return;
    bs__tkey_from_msg(m, &k);
    l = find(b, &k, true, &idx);
    if (!l || l->from == from) {
        env->ops->stat(env, BS_STAT_UNMATCHED, 1);
        bs_node_note(&b->base, BS_J_UNMATCHED, b->cfg.side[from].sw, m, trace,
                     "no leg with this key");
        return;
    }
    if (l->state != LEG_PENDING) {
        env->ops->stat(env, BS_STAT_LATE_RESPONSE, 1);
        bs_node_note(&b->base, BS_J_LATE, b->cfg.side[from].sw, m, l->trace,
                     l->state == LEG_DONE ? "duplicate response" : "after bridge timeout");
        return;
    }
    if (bs_iso_msg_get_str(m, 39, l->rc, sizeof(l->rc)) < 0)
        memcpy(l->rc, "96", 3);
    if (bs_iso_msg_get_str(m, 38, l->auth, sizeof(l->auth)) < 0)
        l->auth[0] = '\0';
    l->state = LEG_DONE;
    answer(b, l, m, NULL);
    if (!l->is_reversal)
        drop_hot(b, l); /* answered: repeats are answered from themselves */
    if (l->is_reversal) {
        struct leg *o = bs__pool_live(&b->legs, l->orig, l->orig_gen);
        /* Clearing undoes a committed transaction once, however many reversals name it. */
        if (o && o->committed && !o->reversed && strcmp(l->rc, "00") == 0) {
            o->reversed = true;
            report_clearing(b, o, BS_CLR_REVERSAL);
        }
    }
}

static void on_message(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                       uint64_t trace)
{
    struct bridge *b = (struct bridge *)node;
    int side = side_of(b, from);
    struct bs_iso_msg m;
    enum bs_sig_status st;
    int rc;

    if (side < 0)
        return;
    rc = bs_node_recv(node, b->cfg.side[side].dialect, from, buf, n, trace, &m, &st);
    if (rc == BS_EFORMAT || rc == BS_ESIG) {
        decline(b, side, &m, rc == BS_ESIG ? "63" : "30", trace);
        return;
    }
    if (bs__nm_on_message(&b->nm, b->cfg.side[side].dialect, from, &m, trace))
        return;
    if (bs_mti_is_response(m.mti))
        handle_response(b, side, &m, trace);
    else
        handle_request(b, side, &m, trace);
}

/* The other scheme did not answer a financial request in time (or, @forwarded false, its
 * switch is down and the request never left): stand in when the policy for its cards
 * allows (approve, commit, store a 0220 advice for its issuer), else decline RC 91 and,
 * when it was forwarded, reverse towards it, so a late approval there is undone. */
static void give_up(struct bridge *b, struct leg *l, bool forwarded)
{
    struct bs_env *env = b->base.env;
    int to = !l->from;
    struct bs_canon c;
    char auth[7];

    outbound(b, l, &c);
    l->auth[0] = '\0';
    /* Stand-in only for purchases and cash: a refund's credit and a balance are the
     * issuer's to decide (as at the switches). Still pending, so the leg has its request
     * (DE 2 and DE 14 for the stand-in rules). */
    if ((l->type == BS_TXN_PURCHASE || l->type == BS_TXN_ATM_WITHDRAWAL) &&
        bs__stip_approve(&b->stip[to], c.pan, c.expiry, l->channel, l->billing, env->now, auth)) {
        env->ops->stat(env, BS_STAT_STAND_IN_APPROVED, 1);
        bs_node_note(&b->base, BS_J_STAND_IN, b->cfg.side[to].sw, NULL, l->trace,
                     "approved in stand-in; advice stored");
        memcpy(l->rc, "00", 3);
        memcpy(l->auth, auth, sizeof(auth));
        l->stand_in = true;
        answer(b, l, NULL, NULL);
        memcpy(c.rc, "00", 3);
        memcpy(c.auth, auth, sizeof(auth));
        bs__revq_start(&b->saf[to], b->cfg.side[to].sw, b->cfg.side[to].dialect, &c,
                       "stand-in approval", l->trace);
    } else {
        if (b->stip[to].policy.enabled)
            env->ops->stat(env, BS_STAT_STAND_IN_DECLINED, 1);
        memcpy(l->rc, "91", 3);
        answer(b, l, NULL, NULL);
        if (forwarded && l->type != BS_TXN_BALANCE_INQUIRY)
            bs__revq_start(&b->revq[to], b->cfg.side[to].sw, b->cfg.side[to].dialect, &c,
                           "bridge timeout", l->trace);
    }
    bs_wipe(&c, sizeof(c));
    drop_hot(b, l); /* decided and answered: repeats are answered from themselves */
}

/* The other scheme's switch is down (missed echo tests, or signed off): decide new request
 * @idx now, as on a timeout, without forwarding it. */
static void side_down(struct bridge *b, uint32_t idx)
{
    struct bs_env *env = b->base.env;
    struct leg *l = bs__pool_at(&b->legs, idx);
    int to = !l->from;

    l->state = LEG_TIMED_OUT;
    give_up(b, l, false);
    if (l->stand_in) {
        env->ops->stat(env, BS_STAT_STAND_IN_PEER_DOWN, 1);
    } else {
        env->ops->stat(env, BS_STAT_PEER_DOWN_DECLINED, 1);
        bs_node_note(&b->base, BS_J_STAND_IN, b->cfg.side[to].sw, NULL, l->trace,
                     "other scheme down: declined RC 91, nothing forwarded");
    }
}

/* A switch went down or came back (network management): hold or drain the SAF queue
 * towards its scheme. */
static void peer_changed(void *ctx, uint32_t peer, bool up)
{
    struct bridge *b = ctx;
    int side = side_of(b, peer);

    if (side >= 0)
        bs__revq_hold(&b->saf[side], !up);
}

static void on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    struct bridge *b = (struct bridge *)node;
    struct bs_env *env = node->env;
    uint32_t idx = (uint32_t)cookie;
    struct leg *l = bs__pool_live(&b->legs, idx, (uint32_t)(cookie >> 32));

    if (kind == TIMER_FORGET) {
        bs__expire_sweep(&b->expire, node, &b->legs, release_leg, b);
        return;
    }
    if (kind == TIMER_NETMGMT) {
        bs__nm_on_timer(&b->nm, cookie);
        return;
    }
    if (kind >= TIMER_SAF) {
        bs__revq_on_timer(&b->saf[(kind - TIMER_SAF) & 1], cookie);
        return;
    }
    if (kind >= TIMER_REVERSAL) {
        bs__revq_on_timer(&b->revq[(kind - TIMER_REVERSAL) & 1], cookie);
        return;
    }
    if (!l)
        return;
    if (kind != TIMER_RESPONSE || l->state != LEG_PENDING)
        return;
    l->state = LEG_TIMED_OUT;
    env->ops->stat(env, BS_STAT_BRIDGE_TIMEOUT, 1);
    bs_node_note(node, BS_J_TIMEOUT, b->cfg.side[!l->from].sw, NULL, l->trace,
                 "no response from the other scheme");
    if (!l->is_reversal)
        give_up(b, l, true);
}

static void bridge_free(struct bs_node *node)
{
    struct bridge *b = (struct bridge *)node;

    for (uint32_t i = 0; i < b->legs.top; i++)
        bs_wipe(&((struct leg *)bs__pool_at(&b->legs, i))->clr, sizeof(struct clr));
    for (uint32_t i = 0; i < b->hot.top; i++) {
        struct hot *h = bs__pool_at(&b->hot, i);
        bs_wipe(&h->req, sizeof(h->req));
        bs_wipe(h->pin, sizeof(h->pin));
    }
    for (int i = 0; i < 2; i++) {
        bs__revq_deinit(&b->revq[i]);
        bs__revq_deinit(&b->saf[i]);
        bs__stip_deinit(&b->stip[i]);
    }
    bs__expire_deinit(&b->expire);
    bs__pool_deinit(&b->legs);
    bs__pool_deinit(&b->hot);
    bs__map_deinit(&b->by_in);
    bs__map_deinit(&b->by_out);
    bs_free(b);
}

static void on_admin(struct bs_node *node, int event)
{
    bs__nm_admin(&((struct bridge *)node)->nm, event);
}

static const struct bs_node_ops bridge_ops = { on_message, on_timer, bridge_free, on_admin };

int bs_bridge_new(const struct bs_bridge_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                  struct bs_node **ret)
{
    struct bridge *b;
    int rc = BS_EINVAL;

    if (!cfg || !cfg->routes || cfg->retention <= 0)
        return BS_EINVAL;
    for (int i = 0; i < 2; i++)
        if (!cfg->side[i].dialect || !cfg->side[i].inst_id || strlen(cfg->side[i].inst_id) > 11)
            return BS_EINVAL;
    if (cfg->side[0].currency == cfg->side[1].currency ||
        (cfg->base_currency != cfg->side[0].currency &&
         cfg->base_currency != cfg->side[1].currency))
        return BS_EINVAL;
    b = bs_calloc(1, sizeof(*b));
    if (!b)
        return BS_ENOMEM;
    rc = bs_node_base_init(&b->base, &bridge_ops, cfg->name, key, keys);
    if (rc)
        goto fail;
    b->cfg = *cfg;
    for (int i = 0; i < 2; i++) {
        snprintf(b->inst[i], sizeof(b->inst[i]), "%s", cfg->side[i].inst_id);
        snprintf(b->names[i], sizeof(b->names[i]), "%s",
                 cfg->side[i].name ? cfg->side[i].name : "");
        b->cfg.side[i].inst_id = b->inst[i];
        b->cfg.side[i].name = b->names[i];
        b->next_stan[i] = 1;
    }
    rc = BS_EINVAL;
    if (cfg->nfx_changes > BS_BRIDGE_MAX_RATES || (cfg->nfx_changes && !cfg->fx_changes))
        goto fail;
    b->nrates = cfg->nfx_changes + 1;
    for (size_t i = 0; i < b->nrates; i++) {
        struct bs_rate mid = i ? cfg->fx_changes[i - 1].mid : cfg->mid;
        b->rate_at[i] = i ? cfg->fx_changes[i - 1].at : INT64_MIN;
        rc = i && b->rate_at[i] <= b->rate_at[i - 1] ? BS_EINVAL : 0;
        if (rc == 0)
            rc = bs_rate_markup(mid, cfg->markup_bps, true, &b->applied_up[i]);
        if (rc == 0)
            rc = bs_rate_markup(mid, cfg->markup_bps, false, &b->applied_down[i]);
        if (rc)
            goto fail;
    }
    b->cfg.fx_changes = NULL; /* copied into the rate tables */
    b->cfg.nfx_changes = 0;
    bs__pool_init(&b->legs, sizeof(struct leg), 8000000);
    bs__pool_init(&b->hot, sizeof(struct hot), 8000000);
    bs__expire_init(&b->expire, TIMER_FORGET);
    rc = bs__map_init(&b->by_in, 1024, 8000000);
    if (rc)
        goto fail;
    rc = bs__map_init(&b->by_out, 1024, 8000000);
    if (rc)
        goto fail_in;
    for (int i = 0; i < 2; i++) {
        rc = bs__revq_init(&b->revq[i], &b->base, TIMER_REVERSAL + (uint32_t)i, b->inst[i],
                           &b->next_stan[i], cfg->reversal_max_repeats, cfg->reversal_backoff,
                           cfg->reversal_backoff_max);
        if (rc == 0)
            rc = bs__saf_init(&b->saf[i], &b->base, TIMER_SAF + (uint32_t)i, cfg->saf_window,
                              cfg->reversal_backoff, cfg->reversal_backoff_max);
        if (rc == 0)
            rc = bs__stip_init(&b->stip[i], &cfg->stip[i]);
        if (rc)
            goto fail_revq;
    }
    bs__nm_init(&b->nm, &b->base, TIMER_NETMGMT, peer_changed, b);
    for (int i = 0; rc == 0 && i < 2; i++)
        rc = bs__nm_add_peer(&b->nm, cfg->side[i].sw, cfg->side[i].dialect, &cfg->nm,
                             &b->next_stan[i]);
    if (rc)
        goto fail_revq;
    *ret = &b->base;
    return 0;
fail_revq:
    for (int i = 0; i < 2; i++) {
        bs__revq_deinit(&b->revq[i]);
        bs__revq_deinit(&b->saf[i]);
        bs__stip_deinit(&b->stip[i]);
    }
    bs__map_deinit(&b->by_out);
fail_in:
    bs__map_deinit(&b->by_in);
fail:
    bs_free(b);
    return rc;
}

void bs_bridge_totals(const struct bs_node *node, int side, struct bs_bridge_totals *ret)
{
    const struct bridge *b = (const struct bridge *)node;

    memset(ret, 0, sizeof(*ret));
    if (side < 0 || side > 1)
        return;
    ret->committed = b->committed[side];
    ret->reversed = b->reversed[side];
    ret->open_reversals = b->revq[side].open;
    ret->open_advices = b->saf[side].open;
}
