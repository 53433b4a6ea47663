/*
 * Issuer host: authorises against its cardholder accounts and debits them in its own
 * currency — DE 6 (cardholder billing amount) when DE 51 names its currency, else DE 4
 * when DE 49 does. Each posting is kept under the request's matching key for the
 * retention time, so a duplicate gets the stored answer without a second debit and a
 * reversal (0420/0421, matched through DE 90) credits at most once.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <bridgesim/money.h>
#include <bridgesim/network.h>

#include "common/fmt.h"
#include "common/map.h"
#include "common/pool.h"
#include "network/expire.h"
#include "network/netmgmt.h"
#include "network/txnkey.h"

enum { TIMER_FORGET = 1, TIMER_NETMGMT = 2 };

struct posting {
    struct bs__pool_hdr hdr;
    struct bs__tkey key;
    uint64_t hkey;
    uint64_t card;
    int64_t amount;   /* debited (credited for a refund), minor units; 0 when declined */
    bool credit;      /* a refund: the cardholder was credited, a reversal debits back */
    uint64_t content; /* hash of what the request asked for, to tell repeats from clashes */
    char rc[3];
    char auth[7];
    bool reversed;
    bool from_advice; /* posted from a stand-in advice rather than our own decision */
    bool suspense;    /* that advice went to suspense (no such card) */
    int32_t day;      /* UTC day it was posted on, for the card's daily limit */
    char by[12];      /* DE 32 of the advice that posted it, or of the reversal that voided it */
};

/* A card's daily limit and its use (minor units) on one UTC day. */
struct card_day {
    int64_t limit; /* 0: none */
    int64_t used;
    int32_t day;
};

struct issuer {
    struct bs_node base;
    struct bs_issuer_cfg cfg;
    char inst_id[12];
    struct bs_card_population cards;
    struct bs_ledger *ledger;
    uint16_t *expiry; /* YYMM per card */
    /* Card status and daily limits (bs_issuer_card_restrict()); NULL until needed. */
    uint8_t *status;      /* enum bs_card_status per card */
    struct card_day *lim; /* daily limit and what was debited on day */
    struct bs__pool posts;
    struct bs__map by_key;
    uint32_t auth_seq;
    int64_t suspense; /* stand-in advices that could not be posted to a card */
    struct bs__expire expire;
    struct bs__nm nm; /* 0800/0810 with the switch */
};

static struct posting *find(struct issuer *is, const struct bs__tkey *k, uint32_t *ret_idx)
{
    return bs__tkey_find(&is->by_key, &is->posts, offsetof(struct posting, key), k, ret_idx);
}

/* The amount to debit in the issuer's currency, or the RC that declines the request. */
static const char *billing_amount(const struct issuer *is, const struct bs_iso_msg *m, int64_t *ret)
{
    int64_t cur;
    unsigned amount_de = 4, cur_de = 49;

    if (bs_iso_msg_has(m, 51)) {
        amount_de = 6;
        cur_de = 51;
    }
    if (bs_iso_msg_get_num(m, cur_de, &cur) != 0 || cur != is->cfg.currency)
        return "12";
    if (bs_iso_msg_get_num(m, amount_de, ret) != 0 || *ret <= 0)
        return "13";
    return NULL;
}

/* The UTC day number of @now, for daily limits. */
static int32_t utc_day(bs_time_us now)
{
    return (int32_t)(now / (86400 * BS_US_PER_SEC));
}

/* What card @card may still be debited today under its daily limit (INT64_MAX: none). */
static int64_t limit_left(const struct issuer *is, uint64_t card, int32_t day)
{
    const struct card_day *c;

    if (!is->lim || !(c = &is->lim[card])->limit)
        return INT64_MAX;
    return c->limit - (c->day == day ? c->used : 0);
}

/* Count @amount (negative for a reversal) against @card's limit on @day. */
static void limit_use(struct issuer *is, uint64_t card, int32_t day, int64_t amount)
{
    struct card_day *c;

    if (!is->lim)
        return;
    c = &is->lim[card];
    if (c->day != day) {
        if (amount < 0)
            return; /* a reversal of an earlier day's posting frees nothing today */
        c->day = day;
        c->used = 0;
    }
    c->used += amount;
}

/* The decline code of a blocked card, or NULL for an active one. */
static const char *status_rc(const struct issuer *is, uint64_t card)
{
    static const char *const rc[] = {
        [BS_CARD_ACTIVE] = NULL,
        [BS_CARD_RESTRICTED] = "62",
        [BS_CARD_LOST] = "41",
        [BS_CARD_STOLEN] = "43",
    };

    return is->status ? rc[is->status[card]] : NULL;
}

/* Current YYMM from the clock (UTC), for expiry checks. */
static int current_yymm(bs_time_us now)
{
    int y, mo;

    bs_civil_from_us(now, 0, &y, &mo, NULL, NULL, NULL, NULL, NULL);
    return (y % 100) * 100 + mo;
}

/*
 * DE 54 of an approved balance inquiry: one amount set, account type from DE 3 positions
 * 3–4 ("00" unspecified), amount type 02 (available balance), the account's currency (the
 * card's: the issuer's own), C or D, and the balance in its minor units (ISO 8583:1987).
 */
static int add_balance(const struct issuer *is, const struct bs_iso_msg *req, uint64_t card,
                       struct bs_iso_msg *resp)
{
    struct bs_addl_amount a;
    char proc[7] = "", de54[BS_ADDL_AMOUNT_LEN + 1];
    int rc;

    memset(&a, 0, sizeof(a));
    bs_iso_msg_get_str(req, 3, proc, sizeof(proc));
    memcpy(a.account_type, strlen(proc) >= 4 ? proc + 2 : "00", 2);
    memcpy(a.amount_type, "02", 2);
    a.currency = is->cfg.currency;
    a.amount = bs_ledger_balance(is->ledger, (size_t)card);
    rc = bs_addl_amount_format(&a, de54);
    return rc ? rc : bs_iso_msg_set_str(resp, 54, de54);
}

static void respond(struct issuer *is, uint32_t to, const struct bs_iso_msg *req,
                    const struct posting *p, uint64_t trace)
{
    struct bs_iso_msg resp;
    char proc[7] = "";

    if (bs_msg_make_response(req, &resp, p->rc) != 0)
        return;
    if (p->auth[0] && bs_iso_msg_set_str(&resp, 38, p->auth) != 0)
        return;
    bs_iso_msg_get_str(req, 3, proc, sizeof(proc));
    if (strcmp(p->rc, "00") == 0 && bs_txn_type_of_proc(proc) == BS_TXN_BALANCE_INQUIRY &&
        add_balance(is, req, p->card, &resp) != 0)
        return;
    bs_node_send(&is->base, is->cfg.dialect, to, &resp, trace);
}

static void release_posting(void *ctx, uint32_t idx)
{
    struct issuer *is = ctx;
    struct posting *p = bs__pool_at(&is->posts, idx);

    bs__map_del(&is->by_key, p->hkey, idx);
    bs__pool_release(&is->posts, idx);
}

/* Postings are kept for the retention time, then forgotten in creation order. */
static void forget_later(struct issuer *is, uint32_t idx)
{
    struct posting *p = bs__pool_at(&is->posts, idx);

    bs__expire_add(&is->expire, &is->base, idx, p->hdr.gen, is->cfg.retention);
}

/* A request under a key already decided: the stored answer for a repeat, RC 94 for a
 * different request under the same key; never a second debit. */
static void answer_duplicate(struct issuer *is, uint32_t from, const struct bs_iso_msg *m,
                             const struct posting *p, uint64_t trace)
{
    struct bs_env *env = is->base.env;

    if (p->content != bs__content_hash(m)) {
        env->ops->stat(env, BS_STAT_DUPLICATE_MISMATCH, 1);
        bs_node_note(&is->base, BS_J_DUPLICATE, from, m, trace,
                     "same key, different content: RC 94");
        bs_node_reject(&is->base, is->cfg.dialect, from, m, "94", trace);
        return;
    }
    env->ops->stat(env, BS_STAT_DUPLICATE, 1);
    bs_node_note(&is->base, BS_J_DUPLICATE, from, m, trace, "repeat: stored response");
    respond(is, from, m, p, trace);
}

/*
 * PIN verification (ISO 9564-1, issue #9): a DE 52 PIN block must decipher under this
 * network's zone PIN key to the card's PIN (IBM 3624, in the simulated HSM); a block that
 * does not decipher counts as a wrong PIN. Without DE 52 there is nothing to verify.
 */
static bool pin_ok(struct issuer *is, const struct bs_iso_msg *m, const uint8_t *pan, size_t panlen)
{
    const uint8_t *blk;
    char digits[20];
    bool ok = false;
    size_t len;

    if (!is->base.hsm || !(blk = bs_iso_msg_get(m, 52, &len)))
        return true;
    if (panlen >= sizeof(digits))
        return false;
    memcpy(digits, pan, panlen);
    digits[panlen] = '\0';
    if (bs_hsm_pin_verify(is->base.hsm, is->base.pin_zone, digits, blk, len, &ok) != 0)
        ok = false;
    return ok;
}

/* A balance inquiry posts nothing but must still be for an account in our currency. */
static const char *inquiry_currency(const struct issuer *is, const struct bs_iso_msg *m)
{
    int64_t cur;

    if (bs_iso_msg_get_num(m, bs_iso_msg_has(m, 51) ? 51 : 49, &cur) != 0 ||
        cur != is->cfg.currency)
        return "12";
    return NULL;
}

/* Undo an approval's posting of UTC day @day: credit a debit back and give its amount back
 * to the daily limit, or debit a refund's credit back (even into overdraft: the refunded
 * money may already be spent). */
static int undo_posting(struct issuer *is, uint64_t card, int32_t day, int64_t amount, bool credit)
{
    int rc;

    if (credit)
        return bs_ledger_force_debit(is->ledger, card, amount);
    rc = bs_ledger_credit(is->ledger, card, amount);
    if (rc == 0)
        limit_use(is, card, day, -amount);
    return rc;
}

static void authorise(struct issuer *is, uint32_t from, const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs__tkey k;
    struct posting *p;
    uint32_t idx;
    uint64_t card = 0;
    int64_t amount = 0;
    size_t panlen;
    const uint8_t *pan;
    const char *rc = NULL;
    char proc[7] = "";
    unsigned type;

    bs__tkey_from_msg(m, &k);
    if ((p = find(is, &k, &idx)) != NULL) {
        answer_duplicate(is, from, m, p, trace);
        return;
    }
    bs_iso_msg_get_str(m, 3, proc, sizeof(proc));
    type = bs_txn_type_of_proc(proc);
    pan = bs_iso_msg_get(m, 2, &panlen);
    if (bs__nm_signed_off(&is->nm))
        rc = "91"; /* signed off: out of service; recorded so a repeat gets 91 again */
    else if (is->base.forced_rc && strcmp(is->base.forced_rc, "00") != 0)
        rc = is->base.forced_rc; /* a force-RC fault: decline, post nothing */
    else if (!pan || bs_card_index(&is->cards, (const char *)pan, panlen, &card) != 0)
        rc = "14";
    else if ((rc = status_rc(is, card)) != NULL)
        ; /* lost, stolen or restricted: declined whatever else holds */
    else if (is->expiry[card] < current_yymm(bs_node_now(&is->base)))
        rc = "54";
    else if (!pin_ok(is, m, pan, panlen))
        rc = "55";
    else if (type == BS_TXN_BALANCE_INQUIRY)
        rc = inquiry_currency(is, m);
    else
        rc = billing_amount(is, m, &amount);
    if (!rc && !bs_amount_fits(amount, 12))
        rc = "13";
    /* The daily limit is on what the cardholder takes out; a refund or an inquiry takes
     * nothing. */
    if (!rc && (type != BS_TXN_REFUND && type != BS_TXN_BALANCE_INQUIRY) &&
        amount > limit_left(is, card, utc_day(bs_node_now(&is->base))))
        rc = "61";
    if (!rc && type == BS_TXN_BALANCE_INQUIRY) {
        rc = "00"; /* nothing is posted; the balance goes out in DE 54 */
    } else if (!rc && type == BS_TXN_REFUND) {
        /* A refund credits the cardholder; there is no balance to check. */
        int err = bs_ledger_credit(is->ledger, card, amount);
        rc = err == 0 ? "00" : err == BS_EOVERFLOW ? "13" : "96";
    } else if (!rc) {
        int err = bs_ledger_debit(is->ledger, card, amount);
        rc = err == 0 ? "00" : err == BS_ERANGE ? "51" : "96";
    }
    if (bs__pool_alloc(&is->posts, &idx) != 0) {
        bs_node_reject(&is->base, is->cfg.dialect, from, m, "96", trace);
        if (strcmp(rc, "00") == 0)
            undo_posting(is, card, utc_day(bs_node_now(&is->base)), amount, type == BS_TXN_REFUND);
        return;
    }
    p = bs__pool_at(&is->posts, idx);
    p->key = k;
    p->hkey = bs__tkey_hash(&k);
    p->card = card;
    p->content = bs__content_hash(m);
    memcpy(p->rc, rc, 3);
    p->day = utc_day(bs_node_now(&is->base));
    p->credit = type == BS_TXN_REFUND;
    p->amount = 0;
    p->auth[0] = '\0';
    p->reversed = p->from_advice = p->suspense = false;
    if (strcmp(rc, "00") == 0) {
        p->amount = amount;
        if (!p->credit)
            limit_use(is, card, p->day, amount);
        is->auth_seq = is->auth_seq >= 999999 ? 1 : is->auth_seq + 1;
        *bs__put_dec(p->auth, is->auth_seq, 6) = '\0';
    }
    if (bs__map_put(&is->by_key, p->hkey, idx) != 0) {
        /* Without its index entry the posting could never be reversed or recognised as a
         * repeat: undo the debit and answer as a system malfunction. */
        if (strcmp(rc, "00") == 0)
            undo_posting(is, card, p->day, amount, type == BS_TXN_REFUND);
        bs__pool_release(&is->posts, idx);
        bs_node_reject(&is->base, is->cfg.dialect, from, m, "96", trace);
        return;
    }
    respond(is, from, m, bs__pool_at(&is->posts, idx), trace);
    forget_later(is, idx);
}

/* Whether @m comes from the party (DE 32) recorded on posting @p. */
static bool same_originator(const struct posting *p, const struct bs_iso_msg *m)
{
    char acq[12];

    return bs_iso_msg_get_str(m, 32, acq, sizeof(acq)) >= 0 && strcmp(acq, p->by) == 0;
}

static void reverse(struct issuer *is, uint32_t from, const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_env *env = is->base.env;
    struct bs__tkey orig;
    struct posting *p;
    uint32_t idx;
    struct bs_iso_msg resp;

    if (bs__tkey_from_de90(m, &orig) != 0) {
        bs_node_reject(&is->base, is->cfg.dialect, from, m, "30", trace);
        return;
    }
    p = find(is, &orig, &idx);
    if (!p) {
        /* The reversal overtook its original (delayed on a link, or lost and repeated):
         * remember the key, so the original, should it still arrive, is declined
         * instead of debited. */
        bs_node_note(&is->base, BS_J_REVERSAL, from, m, trace,
                     "original not seen: acknowledged, original will be declined");
        if (bs__pool_alloc(&is->posts, &idx) == 0) {
            p = bs__pool_at(&is->posts, idx);
            p->key = orig;
            p->hkey = bs__tkey_hash(&orig);
            p->content = bs__content_hash(m);
            p->reversed = true;
            memcpy(p->rc, "68", 3); /* the original comes too late to be honoured */
            bs_iso_msg_get_str(m, 32, p->by, sizeof(p->by));
            if (bs__map_put(&is->by_key, p->hkey, idx) != 0)
                bs__pool_release(&is->posts, idx);
            else
                forget_later(is, idx);
        }
    } else if (p->from_advice && !same_originator(p, m)) {
        /* A stand-in approval is undone only through the party that made it: a reversal
         * from elsewhere (a switch reversing its own timed-out request) concerns a
         * decision the advice already superseded. */
        bs_node_note(&is->base, BS_J_REVERSAL, from, m, trace,
                     "stand-in approval reversed only by its originator: acknowledged, "
                     "nothing changed");
    } else if (p->reversed || p->amount == 0) {
        bs_node_note(&is->base, BS_J_REVERSAL, from, m, trace,
                     p->reversed ? "already reversed: acknowledged again"
                                 : "original declined: acknowledged, nothing changed");
    } else if (p->suspense) {
        is->suspense -= p->amount;
        p->reversed = true;
        bs_iso_msg_get_str(m, 32, p->by, sizeof(p->by));
        env->ops->stat(env, BS_STAT_REVERSAL_APPLIED, 1);
        bs_node_note(&is->base, BS_J_REVERSAL, from, m, trace, "applied: suspense cleared");
    } else if (undo_posting(is, p->card, p->day, p->amount, p->credit) == 0) {
        char reason[3] = "";
        p->reversed = true;
        bs_iso_msg_get_str(m, 32, p->by, sizeof(p->by));
        bs_iso_msg_get_str(m, 39, reason, sizeof(reason));
        /* A customer cancellation (DE 39 17) is counted apart from timeout reversals. */
        env->ops->stat(
            env, strcmp(reason, "17") == 0 ? BS_STAT_CANCEL_APPLIED : BS_STAT_REVERSAL_APPLIED, 1);
        bs_node_note(&is->base, BS_J_REVERSAL, from, m, trace,
                     p->credit ? "applied: refund debited back" : "applied: cardholder credited");
    }
    if (bs_msg_make_response(m, &resp, "00") == 0)
        bs_node_send(&is->base, is->cfg.dialect, from, &resp, trace);
}

/*
 * A stand-in advice (0220/0221): a switch or the bridge approved for us while we were
 * silent. It cannot be declined, only acknowledged, and it is applied at most once per
 * original: if we approved the original ourselves (our answer was late or lost), it is
 * already posted.
 */
/* The amount an advice reports in whatever billing currency it carries. */
static int64_t advice_amount(const struct bs_iso_msg *m)
{
    int64_t v = 0;

    if (bs_iso_msg_get_num(m, bs_iso_msg_has(m, 6) ? 6 : 4, &v) != 0)
        v = 0;
    return v;
}

static void advice(struct issuer *is, uint32_t from, const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_env *env = is->base.env;
    struct bs__tkey k;
    struct posting *p;
    struct bs_iso_msg resp;
    uint32_t idx;
    uint64_t card = 0;
    int64_t amount = 0;
    size_t panlen;
    const uint8_t *pan = bs_iso_msg_get(m, 2, &panlen);
    const char *why;
    bool suspense = false;

    /* An advice keeps the original's identifiers and class (0120 reports on a 0100, 0220
     * on a 0200), so its key is the original's. */
    bs__tkey_from_msg(m, &k);
    p = find(is, &k, &idx);
    if (p && p->reversed && same_originator(p, m)) {
        /* The stand-in approval was reversed through its originator before its advice
         * got here: there is nothing left to post. */
        why = "advice: its approval already reversed by the originator, nothing applied";
        goto answer;
    }
    /* Reversed by someone else (a switch undoing its own timed-out request) the stand-in
     * approval still stands and is posted now. */
    if (p && !p->reversed && p->amount > 0) {
        why = "advice: original already posted, nothing applied";
        goto answer;
    }
    if (!pan || bs_card_index(&is->cards, (const char *)pan, panlen, &card) != 0 ||
        billing_amount(is, m, &amount) != NULL) {
        /* Approved in stand-in, so owed in settlement all the same: booked to the
         * issuer's suspense position for manual follow-up. */
        why = "advice: card or amount not ours, booked to suspense as an exception";
        env->ops->stat(env, BS_STAT_ADVICE_EXCEPTION, 1);
        amount = advice_amount(m);
        is->suspense += amount;
        suspense = true;
    } else if (bs_ledger_force_debit(is->ledger, card, amount) != 0) {
        why = "advice: posting failed";
        env->ops->stat(env, BS_STAT_ADVICE_EXCEPTION, 1);
        goto answer;
    } else {
        /* Stand-in knows nothing of blocks (no negative file is modelled): its approval
         * stands and is posted; the note says so for whoever follows up. */
        why = status_rc(is, card)
                  ? "advice applied: cardholder debited for the stand-in approval (card "
                    "blocked here; stand-in has no negative file)"
                  : "advice applied: cardholder debited for the stand-in approval";
        env->ops->stat(env, BS_STAT_ADVICE_APPLIED, 1);
        limit_use(is, card, utc_day(bs_node_now(&is->base)), amount);
    }
    /* Record the posting under the original's key, so it is applied once and a reversal
     * through the same originator can undo it. */
    if (!p && bs__pool_alloc(&is->posts, &idx) == 0) {
        p = bs__pool_at(&is->posts, idx);
        p->key = k;
        p->hkey = bs__tkey_hash(&k);
        p->content = bs__content_hash(m);
        if (bs__map_put(&is->by_key, p->hkey, idx) != 0)
            bs__pool_release(&is->posts, idx);
        else
            forget_later(is, idx);
        p = bs__pool_live(&is->posts, idx, p->hdr.gen);
    }
    if (!p) {
        /* Not recorded, so a repeated 0221 would post again: undo and let it repeat. */
        if (suspense)
            is->suspense -= amount;
        else
            bs_ledger_credit(is->ledger, card, amount);
        bs_node_note(&is->base, BS_J_ADVICE, from, m, trace, "advice: no room to record it");
        return;
    }
    {
        p->card = card;
        p->amount = amount;
        p->day = utc_day(bs_node_now(&is->base));
        p->reversed = false;
        p->from_advice = true;
        p->suspense = suspense;
        bs_iso_msg_get_str(m, 32, p->by, sizeof(p->by));
        memcpy(p->rc, "00", 3);
        bs_iso_msg_get_str(m, 38, p->auth, sizeof(p->auth));
    }
answer:
    bs_node_note(&is->base, BS_J_ADVICE, from, m, trace, why);
    if (bs_msg_make_response(m, &resp, "00") == 0)
        bs_node_send(&is->base, is->cfg.dialect, from, &resp, trace);
}

static void on_message(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                       uint64_t trace)
{
    struct issuer *is = (struct issuer *)node;
    struct bs_iso_msg m;
    enum bs_sig_status st;
    int rc = bs_node_recv(node, is->cfg.dialect, from, buf, n, trace, &m, &st);

    if (rc == BS_EFORMAT || rc == BS_ESIG) {
        bs_node_reject(node, is->cfg.dialect, from, &m, rc == BS_ESIG ? "63" : "30", trace);
        return;
    }
    if (bs__nm_on_message(&is->nm, is->cfg.dialect, from, &m, trace))
        return;
    if (strcmp(m.mti, "0200") == 0 || strcmp(m.mti, "0100") == 0)
        authorise(is, from, &m, trace);
    else if (strcmp(m.mti, "0220") == 0 || strcmp(m.mti, "0221") == 0 ||
             strcmp(m.mti, "0120") == 0 || strcmp(m.mti, "0121") == 0)
        advice(is, from, &m, trace);
    else if (strcmp(m.mti, "0420") == 0 || strcmp(m.mti, "0421") == 0 ||
             strcmp(m.mti, "0400") == 0 || strcmp(m.mti, "0401") == 0)
        reverse(is, from, &m, trace);
    else if (!bs_mti_is_response(m.mti))
        bs_node_reject(node, is->cfg.dialect, from, &m, "12", trace);
}

static void on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    struct issuer *is = (struct issuer *)node;

    if (kind == TIMER_FORGET)
        bs__expire_sweep(&is->expire, node, &is->posts, release_posting, is);
    else if (kind == TIMER_NETMGMT)
        bs__nm_on_timer(&is->nm, cookie);
}

static void iss_free(struct bs_node *node)
{
    struct issuer *is = (struct issuer *)node;

    bs__expire_deinit(&is->expire);
    bs__pool_deinit(&is->posts);
    bs__map_deinit(&is->by_key);
    bs_ledger_free(is->ledger);
    bs_free(is->expiry);
    bs_free(is->status);
    bs_free(is->lim);
    bs_free(is);
}

static void on_admin(struct bs_node *node, int event)
{
    bs__nm_admin(&((struct issuer *)node)->nm, event);
}

static const struct bs_node_ops issuer_ops = { on_message, on_timer, iss_free, on_admin };

int bs_issuer_new(const struct bs_issuer_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                  struct bs_node **ret)
{
    struct issuer *is;
    int rc;

    if (!cfg || !cfg->dialect || !cfg->cards || !cfg->inst_id || strlen(cfg->inst_id) > 11 ||
        cfg->retention <= 0)
        return BS_EINVAL;
    is = bs_calloc(1, sizeof(*is));
    if (!is)
        return BS_ENOMEM;
    rc = bs_node_base_init(&is->base, &issuer_ops, cfg->name, key, keys);
    if (rc)
        goto fail;
    is->cfg = *cfg;
    snprintf(is->inst_id, sizeof(is->inst_id), "%s", cfg->inst_id);
    is->cfg.inst_id = is->inst_id;
    is->cards = *cfg->cards;
    is->cfg.cards = &is->cards;
    rc = bs_ledger_new(is->cards.cards, &is->ledger);
    if (rc)
        goto fail;
    is->expiry = bs_calloc(is->cards.cards ? is->cards.cards : 1, sizeof(*is->expiry));
    rc = BS_ENOMEM;
    if (!is->expiry)
        goto fail_ledger;
    bs__pool_init(&is->posts, sizeof(struct posting), 8000000);
    bs__expire_init(&is->expire, TIMER_FORGET);
    rc = bs__map_init(&is->by_key, 1024, 8000000);
    if (rc)
        goto fail_expiry;
    bs__nm_init(&is->nm, &is->base, TIMER_NETMGMT, NULL, NULL);
    rc = bs__nm_add_peer(&is->nm, cfg->sw, cfg->dialect, &cfg->nm, NULL);
    if (rc)
        goto fail_map;
    *ret = &is->base;
    return 0;
fail_map:
    bs__map_deinit(&is->by_key);
fail_expiry:
    bs_free(is->expiry);
fail_ledger:
    bs_ledger_free(is->ledger);
fail:
    bs_free(is);
    return rc;
}

int bs_issuer_card_open(struct bs_node *node, uint64_t idx, int64_t balance, uint16_t expiry)
{
    struct issuer *is = (struct issuer *)node;
    int rc;

    if (idx >= is->cards.cards)
        return BS_EINVAL;
    rc = bs_ledger_open(is->ledger, idx, balance);
    if (rc)
        return rc;
    is->expiry[idx] = expiry;
    return 0;
}

uint16_t bs_issuer_card_expiry(const struct bs_node *node, uint64_t idx)
{
    const struct issuer *is = (const struct issuer *)node;

    return idx < is->cards.cards ? is->expiry[idx] : 0;
}

const struct bs_ledger *bs_issuer_ledger(const struct bs_node *node)
{
    return ((const struct issuer *)node)->ledger;
}

int64_t bs_issuer_suspense(const struct bs_node *node)
{
    return ((const struct issuer *)node)->suspense;
}

int bs_issuer_card_restrict(struct bs_node *node, uint64_t idx, enum bs_card_status status,
                            int64_t daily_limit)
{
    struct issuer *is = (struct issuer *)node;
    size_t n = is->cards.cards;

    if (idx >= n || (unsigned)status > BS_CARD_STOLEN || daily_limit < 0)
        return BS_EINVAL;
    if (status != BS_CARD_ACTIVE && !is->status && !(is->status = bs_calloc(n, 1)))
        return BS_ENOMEM;
    if (daily_limit && !is->lim && !(is->lim = bs_calloc(n, sizeof(*is->lim))))
        return BS_ENOMEM;
    if (is->status)
        is->status[idx] = (uint8_t)status;
    if (is->lim)
        is->lim[idx].limit = daily_limit;
    return 0;
}

enum bs_card_status bs_issuer_card_status(const struct bs_node *node, uint64_t idx)
{
    const struct issuer *is = (const struct issuer *)node;

    return is->status && idx < is->cards.cards ? (enum bs_card_status)is->status[idx]
                                               : BS_CARD_ACTIVE;
}
