/*
 * The issuer host (src/network/issuer.c) in a fake environment: a plain node plays the
 * scheme switch, signs requests with its own key and verifies the issuer's answers. After
 * every exchange the ledger's conservation check must hold and balances are compared with
 * exact expected values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/money.h>
#include <bridgesim/network.h>

#include "net_test.h"

enum { SW = 0, ISS = 1 };

/* 2025-06-15T12:00:00Z: current YYMM is 2506. */
#define NOW       INT64_C(1749988800000000)
#define RETENTION (2 * 3600 * BS_US_PER_SEC)

struct iss_fx {
    struct bs_iso_dialect *d;
    struct bs_keystore *ks;
    struct bs_key *sw_key, *iss_key;
    struct t_env env;
    struct bs_node sw;
    struct bs_node *iss;
    struct bs_card_population cards;
    char pan[8][20];
    uint32_t stan;
};

static const uint8_t seed7[8] = { 0, 0, 0, 0, 0, 0, 0, 7 };

static struct bs_key *derive(const char *owner)
{
    struct bs_key *k = NULL;

    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed7, sizeof(seed7), owner, 1, 0, &k), 0);
    return k;
}

static void iss_build(struct iss_fx *f, bool signing)
{
    struct bs_issuer_cfg cfg = {
        .name = "mir.MIRBANK1",
        .inst_id = "220001",
        .sw = SW,
        .currency = 643,
        .retention = RETENTION,
    };

    f->d = t_load_dialect("mir");
    if (signing) {
        assert_int_equal(bs_keystore_new(&f->ks), 0);
        assert_int_equal(bs_keystore_add(f->ks, derive("mir.switch")), 0);
        assert_int_equal(bs_keystore_add(f->ks, derive("mir.MIRBANK1")), 0);
        f->sw_key = derive("mir.switch");
        f->iss_key = derive("mir.MIRBANK1");
    }
    f->cards = (struct bs_card_population){ .nranges = 1, .cards = 8, .pan_length = 16 };
    f->cards.ranges[0] = (struct bs_card_range){ 2200, 2204, 4 };
    cfg.dialect = f->d;
    cfg.cards = &f->cards;
    t_env_init(&f->env, NOW);
    t_plain_node(&f->sw, &f->env, SW, "mir.switch", f->sw_key, f->ks);
    assert_int_equal(bs_issuer_new(&cfg, f->iss_key, f->ks, &f->iss), 0);
    f->iss->env = &f->env.env;
    f->iss->id = ISS;
    f->env.names[ISS] = f->iss->name;
    for (uint64_t i = 0; i < 8; i++) {
        assert_int_equal(bs_card_pan(&f->cards, i, f->pan[i]), 0);
        f->env.secrets[i] = NULL;
    }
    f->env.secrets[0] = f->pan[0];
    f->env.secrets[1] = f->pan[1];
    /* Card 0: rich; 1: 50.00 RUB; 2: expired last month; 3: expires this month. 4..7 unopened */
    assert_int_equal(bs_issuer_card_open(f->iss, 0, 1000000, 2812), 0);
    assert_int_equal(bs_issuer_card_open(f->iss, 1, 5000, 2812), 0);
    assert_int_equal(bs_issuer_card_open(f->iss, 2, 1000000, 2505), 0);
    assert_int_equal(bs_issuer_card_open(f->iss, 3, 1000000, 2506), 0);
    assert_int_equal(bs_issuer_card_open(f->iss, 8, 1, 2812), BS_EINVAL);
    assert_int_equal(bs_issuer_card_expiry(f->iss, 2), 2505);
    assert_int_equal(bs_issuer_card_expiry(f->iss, 99), 0);
    f->stan = 100;
}

/*
 * cmocka counts memory allocated inside a test function and still held when it returns
 * as a leak (even when teardown would free it), and the issuer allocates as it posts. So
 * each test builds its issuer with start() and frees it with finish(); the teardown only
 * cleans up after a test that failed halfway.
 */
static int iss_setup(void **state)
{
    *state = NULL;
    return 0;
}

static void iss_free_fx(struct iss_fx *f)
{
    t_fail_calloc(-1);
    bs_node_free(f->iss);
    t_env_deinit(&f->env);
    bs_key_free(f->sw_key);
    bs_key_free(f->iss_key);
    bs_keystore_free(f->ks);
    bs_iso_dialect_free(f->d);
    free(f);
}

static int iss_teardown(void **state)
{
    if (*state)
        iss_free_fx(*state);
    return 0;
}

static struct iss_fx *start(void **state, bool signing)
{
    struct iss_fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    *state = f;
    iss_build(f, signing);
    return f;
}

static void finish(void **state)
{
    iss_free_fx(*state);
    *state = NULL;
}

/* ---- helpers -------------------------------------------------------------------------- */

static const struct bs_ledger *ledger(const struct iss_fx *f)
{
    return bs_issuer_ledger(f->iss);
}

static int64_t balance(const struct iss_fx *f, size_t card)
{
    return bs_ledger_balance(ledger(f), card);
}

static void conserved(const struct iss_fx *f)
{
    assert_int_equal(bs_ledger_check(ledger(f)), 0);
}

/* A 0200 for @pan and @amount kopecks with a fresh STAN. */
static void make_0200(struct iss_fx *f, struct bs_iso_msg *m, const char *pan, int64_t amount)
{
    char stan[7];

    snprintf(stan, sizeof(stan), "%06u", ++f->stan);
    assert_int_equal(bs_iso_msg_init(m, "0200"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 2, pan), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 3, "000000"), 0);
    assert_int_equal(bs_iso_msg_set_num(m, 4, amount, 12), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0615115959"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, stan), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 14, "2812"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 32, "12345"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 33, "99"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 37, "516612000100"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 41, "TERM0001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 49, "643"), 0);
}

/* DE 90 for @orig, written out by hand: MTI, STAN, DE 7, DE 32 and DE 33 zero-padded. */
static void make_0420(struct iss_fx *f, struct bs_iso_msg *rev, const struct bs_iso_msg *orig,
                      const char *mti)
{
    char de90[43], stan[7], dt[11], acq[12], fwd[12];
    int64_t a = 0, w = 0;

    assert_int_equal(bs_iso_msg_get_str(orig, 11, stan, sizeof(stan)), 6);
    assert_int_equal(bs_iso_msg_get_str(orig, 7, dt, sizeof(dt)), 10);
    assert_int_equal(bs_iso_msg_get_num(orig, 32, &a), 0);
    assert_int_equal(bs_iso_msg_get_num(orig, 33, &w), 0);
    snprintf(acq, sizeof(acq), "%011lld", (long long)a);
    snprintf(fwd, sizeof(fwd), "%011lld", (long long)w);
    snprintf(de90, sizeof(de90), "%s%s%s%s%s", orig->mti, stan, dt, acq, fwd);
    assert_int_equal(strlen(de90), 42);
    bs_iso_msg_copy(rev, orig);
    assert_int_equal(bs_iso_msg_set_mti(rev, mti), 0);
    snprintf(stan, sizeof(stan), "%06u", ++f->stan);
    assert_int_equal(bs_iso_msg_set_str(rev, 11, stan), 0);
    assert_int_equal(bs_iso_msg_set_str(rev, 7, "0615120100"), 0);
    assert_int_equal(bs_iso_msg_set_str(rev, 90, de90), 0);
}

/*
 * The switch signs and sends @m to the issuer; the issuer's answer (if any) is verified
 * and decoded into @resp. Returns the number of messages the issuer sent.
 */
static size_t exchange(struct iss_fx *f, struct bs_iso_msg *m, struct bs_iso_msg *resp)
{
    enum bs_sig_status st;
    uint8_t req[BS_WIRE_MAX];
    size_t n, sent;

    f->env.nsent = 0;
    assert_int_equal(bs_node_send(&f->sw, f->d, ISS, m, 1), 0);
    assert_int_equal(f->env.nsent, 1);
    n = f->env.sent[0].n;
    memcpy(req, f->env.sent[0].buf, n);
    f->env.nsent = 0;
    f->iss->ops->on_message(f->iss, SW, req, n, 1);
    sent = f->env.nsent;
    if (sent) {
        const struct t_sent *s = &f->env.sent[0];
        assert_int_equal(s->from, ISS);
        assert_int_equal(s->to, SW);
        assert_int_equal(bs_node_recv(&f->sw, f->d, ISS, s->buf, s->n, 1, resp, &st), 0);
        assert_int_equal(st, f->ks ? BS_SIGST_OK : BS_SIGST_NONE);
    }
    conserved(f);
    return sent;
}

static void expect_rc(const struct bs_iso_msg *resp, const char *mti, const char *rc)
{
    char got[3] = "";

    assert_string_equal(resp->mti, mti);
    assert_int_equal(bs_iso_msg_get_str(resp, 39, got, sizeof(got)), 2);
    if (strcmp(got, rc) != 0)
        fail_msg("%s: RC %s, want %s", mti, got, rc);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void approve_debits_once(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp, again;
    char auth1[7], auth2[7];
    struct bs_ledger_totals t;

    make_0200(f, &req, f->pan[0], 150000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(bs_iso_msg_get_str(&resp, 38, auth1, sizeof(auth1)), 6);
    /* Echoed fields tie the answer to the request. */
    {
        char v[20];
        assert_int_equal(bs_iso_msg_get_str(&resp, 11, v, sizeof(v)), 6);
        assert_int_equal(bs_iso_msg_get_str(&resp, 4, v, sizeof(v)), 12);
        assert_string_equal(v, "000000150000");
    }
    assert_int_equal(balance(f, 0), 1000000 - 150000);
    /* A retention timer was started for the posting. */
    assert_int_equal(f->env.ntimers, 1);
    assert_int_equal(f->env.timers[0].node, ISS);
    assert_int_equal(f->env.timers[0].delay, RETENTION);

    /* The same request again (same key, same content): the stored answer, no new debit. */
    bs_iso_msg_copy(&again, &req);
    assert_int_equal(exchange(f, &again, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(bs_iso_msg_get_str(&resp, 38, auth2, sizeof(auth2)), 6);
    assert_string_equal(auth1, auth2);
    assert_int_equal(balance(f, 0), 850000);
    bs_ledger_totals(ledger(f), &t);
    assert_int_equal(t.debits, 1);
    assert_int_equal(t.debited, 150000);

    /* A different transaction on the same card debits again, exactly. */
    make_0200(f, &req, f->pan[0], 1);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 0), 849999);
    finish(state);
}

/* Same key (DE 32, 11, 7), different amount: never a second debit; RC 94 (GUIDE §3). */
static void same_key_different_content(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;

    make_0200(f, &req, f->pan[0], 150000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(bs_iso_msg_set_num(&req, 4, 250000, 12), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "94");
    assert_false(bs_iso_msg_has(&resp, 38));
    assert_int_equal(balance(f, 0), 850000);
    finish(state);
}

static void insufficient_funds(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;

    make_0200(f, &req, f->pan[1], 5001);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "51");
    assert_false(bs_iso_msg_has(&resp, 38));
    assert_int_equal(balance(f, 1), 5000);
    /* The stored decline is what a repeat gets, still without a debit. */
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "51");
    assert_int_equal(balance(f, 1), 5000);
    /* Exactly the balance is approved and leaves zero. */
    make_0200(f, &req, f->pan[1], 5000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 1), 0);
    /* Then even one kopeck is too much. */
    make_0200(f, &req, f->pan[1], 1);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "51");
    assert_int_equal(balance(f, 1), 0);
    finish(state);
}

static void unknown_card(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;
    char pan[20];
    struct bs_ledger_totals t;

    /* Card 8 has a valid BIN and Luhn digit but the issuer has only cards 0..7. */
    assert_int_equal(bs_card_pan(&f->cards, 8, pan), 0);
    make_0200(f, &req, pan, 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "14");
    /* A PAN with a wrong check digit. */
    strcpy(pan, f->pan[0]);
    pan[15] = (char)('0' + (pan[15] - '0' + 1) % 10);
    make_0200(f, &req, pan, 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "14");
    /* No PAN at all. */
    make_0200(f, &req, f->pan[0], 100);
    bs_iso_msg_unset(&req, 2);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "14");
    bs_ledger_totals(ledger(f), &t);
    assert_int_equal(t.debits, 0);
    finish(state);
}

static void expired_card(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;

    make_0200(f, &req, f->pan[2], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "54");
    assert_int_equal(balance(f, 2), 1000000);
    /* A card is valid through the last day of its expiry month. */
    make_0200(f, &req, f->pan[3], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 3), 999900);
    /* A card never opened has expiry 0000. */
    make_0200(f, &req, f->pan[4], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "54");
    finish(state);
}

static void amount_and_currency(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;

    /* A currency the issuer does not bill in. */
    make_0200(f, &req, f->pan[0], 100);
    assert_int_equal(bs_iso_msg_set_str(&req, 49, "364"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "12");
    /* A zero amount. */
    make_0200(f, &req, f->pan[0], 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "13");
    /* Billing in DE 6 / DE 51 (a cross-border leg): DE 6 is debited, not DE 4. */
    make_0200(f, &req, f->pan[0], 2266401);
    assert_int_equal(bs_iso_msg_set_str(&req, 49, "364"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 6, "000000050000"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 10, "34532801"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 51, "643"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 0), 950000);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 0);
    finish(state);
}

static void reversal_credits_once(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, rev, resp;
    struct bs_ledger_totals t;

    make_0200(f, &req, f->pan[0], 150000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 0), 850000);

    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 1000000);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 1);

    /* The same 0420 again, and a 0421 repeat: acknowledged, not credited again. */
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    make_0420(f, &rev, &req, "0421");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 1000000);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 1);
    bs_ledger_totals(ledger(f), &t);
    assert_int_equal(t.debited, 150000);
    assert_int_equal(t.credited, 150000);
    assert_int_equal(t.credits, 1);
    assert_int_equal(t.position, 0);

    /* A repeat of the original after its reversal: the stored answer, no new debit. */
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 0), 1000000);
    finish(state);
}

static void reversal_of_unknown_or_declined(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, rev, resp;
    struct bs_ledger_totals before, after;

    bs_ledger_totals(ledger(f), &before);
    /* An original the issuer never saw. */
    make_0200(f, &req, f->pan[0], 150000);
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 1000000);
    /* A declined original (51): nothing to give back. */
    make_0200(f, &req, f->pan[1], 999999);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "51");
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 1), 5000);
    bs_ledger_totals(ledger(f), &after);
    assert_int_equal(after.debits, before.debits);
    assert_int_equal(after.credits, before.credits);
    assert_int_equal(after.balances, before.balances);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 0);
    assert_int_equal(balance(f, 1), 5000);
    finish(state);
}

/* After the retention time the posting is forgotten: a late reversal changes nothing. */
static void retention_forgets(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, rev, resp;
    struct t_timer tm;

    make_0200(f, &req, f->pan[0], 150000);
    f->env.ntimers = 0;
    assert_int_equal(exchange(f, &req, &resp), 1);
    assert_int_equal(f->env.ntimers, 1);
    tm = f->env.timers[0];
    f->env.env.now += tm.delay;
    f->iss->ops->on_timer(f->iss, tm.kind, tm.cookie);
    f->iss->ops->on_timer(f->iss, tm.kind, tm.cookie); /* a stale cookie is harmless */
    conserved(f);
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 850000); /* no longer known: not credited */
    /* A new posting reuses the pool slot; the old cookie must not forget it. */
    make_0200(f, &req, f->pan[0], 100);
    f->env.ntimers = 0;
    assert_int_equal(exchange(f, &req, &resp), 1);
    f->iss->ops->on_timer(f->iss, tm.kind, tm.cookie);
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 850000); /* the 100 was credited back */
    finish(state);
}

/* Unsigned or badly signed requests are answered 63 and change nothing. */
static void bad_signature_declined(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;
    enum bs_sig_status st;
    struct bs_key *saved = f->sw.key;

    f->sw.key = NULL;
    make_0200(f, &req, f->pan[0], 100);
    f->env.nsent = 0;
    assert_int_equal(bs_node_send(&f->sw, f->d, ISS, &req, 1), 0);
    {
        uint8_t buf[BS_WIRE_MAX];
        size_t n = f->env.sent[0].n;
        memcpy(buf, f->env.sent[0].buf, n);
        f->env.nsent = 0;
        f->iss->ops->on_message(f->iss, SW, buf, n, 1);
    }
    f->sw.key = saved;
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(
        bs_node_recv(&f->sw, f->d, ISS, f->env.sent[0].buf, f->env.sent[0].n, 1, &resp, &st), 0);
    expect_rc(&resp, "0210", "63");
    assert_int_equal(balance(f, 0), 1000000);
    conserved(f);
    finish(state);
}

/* A stand-in advice carries the original's DE 11, DE 7 and DE 32: same key, class 2. */
static void make_advice(struct bs_iso_msg *adv, const struct bs_iso_msg *orig, const char *mti)
{
    bs_iso_msg_copy(adv, orig);
    assert_int_equal(bs_iso_msg_set_mti(adv, mti), 0);
    assert_int_equal(bs_iso_msg_set_str(adv, 38, "S00001"), 0);
    assert_int_equal(bs_iso_msg_set_str(adv, 39, "00"), 0);
}

/* Stand-in advices (0220/0221): applied once per original, never on top of an approval. */
static void advice_applied_once(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, adv, rev, resp;
    struct bs_ledger_totals t;

    /* The issuer never saw the original: the advice debits it, once. */
    make_0200(f, &req, f->pan[0], 70000);
    make_advice(&adv, &req, "0220");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0230", "00");
    assert_int_equal(balance(f, 0), 930000);
    make_advice(&adv, &req, "0221");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0230", "00");
    assert_int_equal(balance(f, 0), 930000);
    /* The original arriving late is a repeat of what the advice posted. */
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 0), 930000);
    /* And its reversal gives it back, once. */
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 1000000);

    /* The issuer approved the original itself (its answer was late): nothing more. */
    make_0200(f, &req, f->pan[0], 1234);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    make_advice(&adv, &req, "0220");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0230", "00");
    assert_int_equal(balance(f, 0), 1000000 - 1234);

    /* An advice cannot be declined: it may overdraw. */
    make_0200(f, &req, f->pan[1], 5001);
    make_advice(&adv, &req, "0220");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0230", "00");
    assert_int_equal(balance(f, 1), -1);
    bs_ledger_totals(ledger(f), &t);
    assert_int_equal(t.debited, 70000 + 1234 + 5001);
    assert_int_equal(t.credited, 70000);
    finish(state);
}

/*
 * BUG (src/network/issuer.c:262, advice(): `k.cls = '2';`): an advice is looked up under MTI
 * class 2 whatever its own class, so a 0120 authorization advice never finds the 0100
 * it reports on (keyed class 1 by authorise()). If the issuer approved the 0100 itself
 * (its answer was late), the 0120 debits the cardholder a second time. Expected: the
 * advice's own class (bs__tkey_from_msg() already gives '1' for 0120), no second debit.
 */
static void advice_0120_finds_its_0100(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, adv, resp;

    make_0200(f, &req, f->pan[0], 20000);
    assert_int_equal(bs_iso_msg_set_mti(&req, "0100"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0110", "00");
    assert_int_equal(balance(f, 0), 980000);
    make_advice(&adv, &req, "0120");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0130", "00");
    if (balance(f, 0) != 980000)
        fail_msg("0120 for an approved 0100 debited again: balance %lld, want 980000",
                 (long long)balance(f, 0));
    finish(state);
}

/*
 * BUG (src/network/issuer.c:180, authorise(): `if (bs__map_put(&is->by_key, ...) != 0) {
 * bs__pool_release(...); return; }`): the card is debited BEFORE the posting is indexed,
 * and when indexing fails (BS_ENOMEM growing the map, or BS_ELIMIT) the posting is dropped
 * without a credit and without any answer. The acquirer then times out and reverses, the
 * reversal finds no posting ("original not seen"), and the cardholder has lost the money.
 * Reproduced here by failing the map's growth (the 1025th posting; the map starts at 2048
 * slots). Expected: an answer is sent, and unless it is an approval the balance is
 * unchanged (as on the pool-allocation failure path, which answers 96 and credits back).
 */
static void map_failure_never_loses_money(void **state)
{
    struct iss_fx *f = start(state, false);
    struct bs_iso_msg req, resp;
    int64_t bal;

    for (int i = 0; i < 1024; i++) {
        make_0200(f, &req, f->pan[0], 1);
        assert_int_equal(exchange(f, &req, &resp), 1);
        expect_rc(&resp, "0210", "00");
        t_env_clear(&f->env);
    }
    bal = balance(f, 0);
    assert_int_equal(bal, 1000000 - 1024);
    make_0200(f, &req, f->pan[0], 500);
    t_fail_calloc(0); /* the map's growth */
    size_t sent = exchange(f, &req, &resp);
    t_fail_calloc(-1);
    if (sent == 0)
        fail_msg("no answer at all, and the balance went from %lld to %lld", (long long)bal,
                 (long long)balance(f, 0));
    {
        char rc[3] = "";
        bs_iso_msg_get_str(&resp, 39, rc, sizeof(rc));
        if (strcmp(rc, "00") != 0)
            assert_int_equal(balance(f, 0), bal);
    }
    finish(state);
}

/*
 * Card statuses (bs_issuer_card_restrict()): a lost, stolen or restricted card is declined
 * RC 41, 43 or 62 before anything else is checked (expiry, funds), and never debited; a
 * stand-in advice for it is posted all the same, its note naming the missing negative file.
 */
static void blocked_cards(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, adv, resp;

    assert_int_equal(bs_issuer_card_status(f->iss, 0), BS_CARD_ACTIVE);
    assert_int_equal(bs_issuer_card_restrict(f->iss, 0, BS_CARD_RESTRICTED, 0), 0);
    assert_int_equal(bs_issuer_card_restrict(f->iss, 2, BS_CARD_STOLEN, 0), 0); /* expired too */
    assert_int_equal(bs_issuer_card_restrict(f->iss, 3, BS_CARD_LOST, 0), 0);
    assert_int_equal(bs_issuer_card_restrict(f->iss, 8, BS_CARD_LOST, 0), BS_EINVAL);
    assert_int_equal(bs_issuer_card_restrict(f->iss, 1, (enum bs_card_status)9, 0), BS_EINVAL);
    assert_int_equal(bs_issuer_card_restrict(f->iss, 1, BS_CARD_ACTIVE, -1), BS_EINVAL);
    assert_int_equal(bs_issuer_card_status(f->iss, 0), BS_CARD_RESTRICTED);
    assert_int_equal(bs_issuer_card_status(f->iss, 1), BS_CARD_ACTIVE);
    assert_int_equal(bs_issuer_card_status(f->iss, 99), BS_CARD_ACTIVE);

    make_0200(f, &req, f->pan[0], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "62");
    make_0200(f, &req, f->pan[2], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "43");
    make_0200(f, &req, f->pan[3], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "41");
    /* An active card beside them is approved as before. */
    make_0200(f, &req, f->pan[1], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 0), 1000000);
    assert_int_equal(balance(f, 2), 1000000);
    assert_int_equal(balance(f, 3), 1000000);

    /* Unblocked again, the card is approved. */
    assert_int_equal(bs_issuer_card_restrict(f->iss, 3, BS_CARD_ACTIVE, 0), 0);
    make_0200(f, &req, f->pan[3], 100);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");

    /* A stand-in approved card 0 without knowing the block: its advice is posted. */
    make_0200(f, &req, f->pan[0], 700);
    make_advice(&adv, &req, "0220");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0230", "00");
    assert_int_equal(balance(f, 0), 1000000 - 700);
    {
        size_t noted = 0;

        for (size_t i = 0; i < f->env.nlines; i++)
            noted += strstr(f->env.lines[i], "stand-in has no negative file") != NULL;
        assert_int_equal(noted, 1);
    }
    finish(state);
}

/*
 * Daily limits: the day's approvals and posted advices together up to the limit, RC 61
 * above it (checked before the balance); a reversal gives back its amount; the next UTC
 * day starts from 0.
 */
static void daily_limit(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg first, req, big, rev, adv, resp;

    assert_int_equal(bs_issuer_card_restrict(f->iss, 0, BS_CARD_ACTIVE, 100000), 0);
    assert_int_equal(bs_issuer_card_restrict(f->iss, 1, BS_CARD_ACTIVE, 100000), 0);
    make_0200(f, &first, f->pan[0], 60000);
    assert_int_equal(exchange(f, &first, &resp), 1);
    expect_rc(&resp, "0210", "00");
    make_0200(f, &big, f->pan[0], 40001);
    assert_int_equal(exchange(f, &big, &resp), 1);
    expect_rc(&resp, "0210", "61");
    make_0200(f, &req, f->pan[0], 40000); /* exactly up to the limit */
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    make_0200(f, &big, f->pan[0], 1);
    assert_int_equal(exchange(f, &big, &resp), 1);
    expect_rc(&resp, "0210", "61");
    assert_int_equal(balance(f, 0), 1000000 - 100000);

    /* The reversal of the 40000 frees that much of today's limit again. */
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    make_0200(f, &req, f->pan[0], 40000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");

    /* Over the limit is 61 even when the balance would not do either (card 1: 50.00). */
    make_0200(f, &req, f->pan[1], 100001);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "61");

    /* The next UTC day starts afresh; a posted advice counts and may pass the limit. */
    f->env.env.now += 86400 * BS_US_PER_SEC;
    make_0200(f, &req, f->pan[0], 30000);
    make_advice(&adv, &req, "0220");
    assert_int_equal(exchange(f, &adv, &resp), 1);
    expect_rc(&resp, "0230", "00");
    make_0200(f, &req, f->pan[0], 70000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    make_0200(f, &req, f->pan[0], 1);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "61");
    /* Reversing yesterday's 60000 credits the card but frees nothing of today's limit. */
    make_0420(f, &rev, &first, "0420");
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 0), 1000000 - 100000 + 60000 - 30000 - 70000);
    make_0200(f, &req, f->pan[0], 1);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "61");
    finish(state);
}

/* ---- transaction types (issue #6 item 4) -------------------------------------------- */

/*
 * A refund (DE 3 20) credits the card — even one with no funds —, once for a repeat; its
 * reversal debits it back exactly once, even into overdraft; the ledger posts the refund
 * as a credit and the reversal as a debit.
 */
static void refund_credits_and_reverses_once(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp, rev;
    struct bs_ledger_totals t;

    make_0200(f, &req, f->pan[1], 12345);
    assert_int_equal(bs_iso_msg_set_str(&req, 3, "200000"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_true(bs_iso_msg_has(&resp, 38));
    assert_int_equal(balance(f, 1), 5000 + 12345);
    assert_int_equal(exchange(f, &req, &resp), 1); /* a repeat: the stored answer */
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 1), 17345);
    bs_ledger_totals(ledger(f), &t);
    assert_int_equal(t.credits, 1);
    assert_int_equal(t.credited, 12345);
    assert_int_equal(t.debits, 0);

    /* The cardholder spends it all; the refund's reversal still takes it back. */
    make_0200(f, &req, f->pan[1], 17345);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    assert_int_equal(balance(f, 1), 0);
    make_0200(f, &req, f->pan[1], 12345);
    assert_int_equal(bs_iso_msg_set_str(&req, 3, "200000"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 11, "000101"), 0); /* the refund's key */
    make_0420(f, &rev, &req, "0420");
    assert_int_equal(bs_iso_msg_set_str(&rev, 39, "68"), 0);
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 1), -12345);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 1);
    make_0420(f, &rev, &req, "0421");
    assert_int_equal(bs_iso_msg_set_str(&rev, 39, "68"), 0);
    assert_int_equal(exchange(f, &rev, &resp), 1);
    expect_rc(&resp, "0430", "00");
    assert_int_equal(balance(f, 1), -12345);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 1);
    finish(state);
}

/*
 * A balance inquiry (0100, DE 3 31, DE 4 zero) posts nothing and answers DE 54: one set,
 * account type from DE 3, amount type 02, the card's currency, C, the available balance.
 * Declined ones (expired card) carry no DE 54.
 */
static void balance_inquiry_answers_de54(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp;
    struct bs_ledger_totals t;
    struct bs_addl_amount a;
    char de54[64];

    make_0200(f, &req, f->pan[1], 0);
    assert_int_equal(bs_iso_msg_set_mti(&req, "0100"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 3, "312000"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0110", "00");
    assert_int_equal(bs_iso_msg_get_str(&resp, 54, de54, sizeof(de54)), BS_ADDL_AMOUNT_LEN);
    assert_string_equal(de54, "2002643C000000005000");
    assert_int_equal(bs_addl_amount_parse(de54, strlen(de54), 0, &a), 0);
    assert_int_equal(a.amount, 5000);
    assert_int_equal(a.currency, 643);
    assert_int_equal(balance(f, 1), 5000);
    bs_ledger_totals(ledger(f), &t);
    assert_int_equal(t.debits + t.credits, 0);

    make_0200(f, &req, f->pan[2], 0);
    assert_int_equal(bs_iso_msg_set_mti(&req, "0100"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 3, "310000"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0110", "54");
    assert_false(bs_iso_msg_has(&resp, 54));
    /* A currency the issuer does not bill is refused as for any request. */
    make_0200(f, &req, f->pan[0], 0);
    assert_int_equal(bs_iso_msg_set_mti(&req, "0100"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 3, "310000"), 0);
    assert_int_equal(bs_iso_msg_set_str(&req, 49, "364"), 0);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0110", "12");
    finish(state);
}

/* A customer cancellation (reversal DE 39 17) undoes the purchase once and is counted as a
 * cancellation, not as a timeout reversal. */
static void cancellation_counted_apart(void **state)
{
    struct iss_fx *f = start(state, true);
    struct bs_iso_msg req, resp, rev;

    make_0200(f, &req, f->pan[0], 70000);
    assert_int_equal(exchange(f, &req, &resp), 1);
    expect_rc(&resp, "0210", "00");
    for (int i = 0; i < 2; i++) {
        make_0420(f, &rev, &req, i ? "0421" : "0420");
        assert_int_equal(bs_iso_msg_set_str(&rev, 39, "17"), 0);
        assert_int_equal(exchange(f, &rev, &resp), 1);
        expect_rc(&resp, "0430", "00");
        assert_int_equal(balance(f, 0), 1000000);
    }
    assert_int_equal(f->env.stats[BS_STAT_CANCEL_APPLIED], 1);
    assert_int_equal(f->env.stats[BS_STAT_REVERSAL_APPLIED], 0);
    finish(state);
}

/* DE 54 amount sets: format and parse are inverse; bad input is refused, never read past. */
static void addl_amount_codec(void **state)
{
    struct bs_addl_amount a = { "00", "02", 364, -1234567 }, b;
    char out[BS_ADDL_AMOUNT_LEN + 1];
    const char two[] = "1002643C0000000050000002364D000000000007";

    (void)state;
    assert_int_equal(bs_addl_amount_format(&a, out), 0);
    assert_string_equal(out, "0002364D000001234567");
    assert_int_equal(bs_addl_amount_parse(out, strlen(out), 0, &b), 0);
    assert_int_equal(b.amount, -1234567);
    assert_int_equal(b.currency, 364);
    assert_string_equal(b.amount_type, "02");
    assert_int_equal(bs_addl_amount_parse(two, strlen(two), 1, &b), 0);
    assert_int_equal(b.amount, -7);
    assert_string_equal(b.account_type, "00");
    assert_int_equal(bs_addl_amount_parse(two, strlen(two), 2, &b), BS_ENOTFOUND);
    assert_int_equal(bs_addl_amount_parse(two, 39, 1, &b), BS_ENOTFOUND);
    assert_int_equal(bs_addl_amount_parse("0002643X000000000001", 20, 0, &b), BS_EFORMAT);
    assert_int_equal(bs_addl_amount_parse("0002643C00000000000A", 20, 0, &b), BS_EFORMAT);
    a.amount = INT64_C(1000000000000);
    assert_int_equal(bs_addl_amount_format(&a, out), BS_ERANGE);
    a.amount = 1;
    memcpy(a.amount_type, "2", 2);
    assert_int_equal(bs_addl_amount_format(&a, out), BS_EINVAL);
    /* Processing codes and types. */
    assert_string_equal(bs_txn_proc_code(BS_TXN_REFUND, BS_CH_POS), "200000");
    assert_string_equal(bs_txn_proc_code(BS_TXN_BALANCE_INQUIRY, BS_CH_ATM), "310000");
    assert_string_equal(bs_txn_proc_code(BS_TXN_CANCELLATION, BS_CH_POS), "000000");
    assert_string_equal(bs_txn_proc_code(BS_TXN_ATM_WITHDRAWAL, BS_CH_POS), "010000");
    assert_int_equal(bs_txn_type_of_proc("200000"), BS_TXN_REFUND);
    assert_int_equal(bs_txn_type_of_proc("310000"), BS_TXN_BALANCE_INQUIRY);
    assert_int_equal(bs_txn_type_of_proc(""), BS_TXN_PURCHASE);
    assert_int_equal(bs_channel_of_proc("310000"), BS_CH_ATM);
    assert_int_equal(bs_channel_of_proc("200000"), BS_CH_POS);
}

int t_run_issuer(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, iss_setup, iss_teardown)
    const struct CMUnitTest issuer[] = {
        T(approve_debits_once),
        T(same_key_different_content),
        T(insufficient_funds),
        T(unknown_card),
        T(expired_card),
        T(amount_and_currency),
        T(reversal_credits_once),
        T(reversal_of_unknown_or_declined),
        T(retention_forgets),
        T(bad_signature_declined),
        T(advice_applied_once),
        T(advice_0120_finds_its_0100),
        T(map_failure_never_loses_money),
        T(blocked_cards),
        T(daily_limit),
        T(refund_credits_and_reverses_once),
        T(balance_inquiry_answers_de54),
        T(cancellation_counted_apart),
        T(addl_amount_codec),
    };
#undef T
    return cmocka_run_group_tests_name("issuer", issuer, NULL, NULL);
}
