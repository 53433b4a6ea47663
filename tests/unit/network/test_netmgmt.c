/*
 * Network management (ISO 8583:1987 class 8: 0800/0810 sign-on 001, sign-off 002, echo
 * test 301; issue #4 §9) in a fake environment: the peer-state machine of
 * src/network/netmgmt.c driven directly, the hold of the SAF queue (bs__revq_hold()), and a
 * scheme switch that routes around a signed-off issuer and drains its SAF queue in order
 * when it signs on. Library allocations are leak-checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/network.h>

#include "net_test.h"
#include "network/netmgmt.h"
#include "network/revq.h"

enum { SW = 0, ISS = 1, ACQ = 2 };

/* 2026-03-02T09:00:00Z */
#define NOW      INT64_C(1772442000000000)
#define INTERVAL (60 * BS_US_PER_SEC)
#define NM_TIMER 7

/* ---- the module on its own -------------------------------------------------------------- */

struct nm_fx {
    struct bs_iso_dialect *d;
    struct t_env env;
    struct bs_node node, peer;
    struct bs__nm nm;
    uint32_t stan;
    int changes;
    uint32_t last_peer;
    bool last_up;
};

static void on_change(void *ctx, uint32_t peer, bool up)
{
    struct nm_fx *f = ctx;

    f->changes++;
    f->last_peer = peer;
    f->last_up = up;
}

static struct nm_fx *nm_start(void **state, bool originate)
{
    struct nm_fx *f = calloc(1, sizeof(*f));
    struct bs_netmgmt_policy pol = {
        .enabled = true, .originate = originate, .echo_interval = INTERVAL, .missed_echoes = 3
    };

    assert_non_null(f);
    *state = f;
    f->d = t_load_dialect("shetab");
    t_env_init(&f->env, NOW);
    t_plain_node(&f->node, &f->env, SW, "shetab.switch", NULL, NULL);
    t_plain_node(&f->peer, &f->env, ISS, "shetab.MELLI", NULL, NULL);
    f->stan = 500;
    bs__nm_init(&f->nm, &f->node, NM_TIMER, on_change, f);
    assert_int_equal(bs__nm_add_peer(&f->nm, ISS, f->d, &pol, &f->stan), 0);
    return f;
}

/*
 * cmocka counts what a test allocates and still holds when it returns as a leak, so each
 * test frees its fixture with its finish(); the teardown only cleans up after a test that
 * failed halfway.
 */
static int nm_teardown(void **state)
{
    struct nm_fx *f = *state;

    if (f) {
        t_env_deinit(&f->env);
        bs_iso_dialect_free(f->d);
        free(f);
    }
    *state = NULL;
    return 0;
}

/* Unpack send @i in dialect @d and check its MTI and DE 70. */
static void expect_sent(const struct t_env *e, const struct bs_iso_dialect *d, size_t i,
                        uint32_t to, const char *mti, const char *de70, struct bs_iso_msg *m)
{
    struct bs_iso_error err;
    char v[8];

    assert_true(i < e->nsent);
    assert_int_equal(e->sent[i].to, to);
    assert_int_equal(bs_iso_unpack(d, e->sent[i].buf, e->sent[i].n, m, &err), 0);
    assert_string_equal(m->mti, mti);
    if (de70) {
        assert_int_equal(bs_iso_msg_get_str(m, 70, v, sizeof(v)), 3);
        assert_string_equal(v, de70);
    }
}

static void expect_rc(const struct bs_iso_msg *m, const char *rc)
{
    char got[3] = "";

    assert_int_equal(bs_iso_msg_get_str(m, 39, got, sizeof(got)), 2);
    assert_string_equal(got, rc);
}

/* The 0810 the peer would send for 0800 @req, with @rc. */
static void answer(const struct bs_iso_msg *req, const char *rc, struct bs_iso_msg *resp)
{
    char de70[4];

    assert_int_equal(bs_msg_make_response(req, resp, rc), 0);
    assert_int_equal(bs_iso_msg_get_str(req, 70, de70, sizeof(de70)), 3);
    assert_int_equal(bs_iso_msg_set_str(resp, 70, de70), 0);
}

/* An 0800 from the peer with DE 70 @code. */
static void peer_0800(struct nm_fx *f, const char *code, struct bs_iso_msg *m)
{
    char stan[7];

    snprintf(stan, sizeof(stan), "%06u", ++f->stan);
    assert_int_equal(bs_iso_msg_init(m, "0800"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0302090000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, stan), 0);
    if (code)
        assert_int_equal(bs_iso_msg_set_str(m, 70, code), 0);
}

/* Fire the module's (single) pending timer, checking its kind, delay and cookie. */
static void fire(struct nm_fx *f)
{
    struct t_timer tm;

    assert_int_equal(f->env.ntimers, 1);
    tm = f->env.timers[0];
    assert_int_equal(tm.node, SW);
    assert_int_equal(tm.kind, NM_TIMER);
    assert_int_equal(tm.delay, INTERVAL);
    t_env_clear(&f->env);
    f->env.env.now += tm.delay;
    bs__nm_on_timer(&f->nm, tm.cookie);
}

static bool journal_has(const struct t_env *e, const char *text)
{
    for (size_t i = 0; i < e->nlines; i++)
        if (strstr(e->lines[i], text))
            return true;
    return false;
}

/* START: the originating end signs on (001) and arms one timer; DE 7, DE 11, DE 70 set. */
static void originator_signs_on(void **state)
{
    struct nm_fx *f = nm_start(state, true);
    struct bs_iso_msg m, r;
    char v[12];

    bs__nm_admin(&f->nm, BS_ADMIN_START);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "001", &m);
    assert_int_equal(bs_iso_msg_get_str(&m, 11, v, sizeof(v)), 6);
    assert_string_equal(v, "000500"); /* the owner's STAN counter, advanced */
    assert_int_equal(f->stan, 501);
    assert_int_equal(bs_iso_msg_get_str(&m, 7, v, sizeof(v)), 10);
    assert_string_equal(v, "0302090000");
    assert_int_equal(f->env.ntimers, 1);
    /* Acknowledged: the next tick sends only an echo test. */
    answer(&m, "00", &r);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &r, 0));
    fire(f);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "301", &m);
    assert_int_equal(f->env.stats[BS_STAT_ECHO_SENT], 1);
    assert_int_equal(f->env.ntimers, 1);
    assert_int_equal(f->changes, 0);
    /* Not class 8: not ours. */
    assert_int_equal(bs_iso_msg_init(&m, "0200"), 0);
    assert_false(bs__nm_on_message(&f->nm, f->d, ISS, &m, 0));
    nm_teardown(state);
}

/* The answering end sends nothing at start and arms no timer. */
static void answerer_is_quiet(void **state)
{
    struct nm_fx *f = nm_start(state, false);

    bs__nm_admin(&f->nm, BS_ADMIN_START);
    assert_int_equal(f->env.nsent, 0);
    assert_int_equal(f->env.ntimers, 0);
    assert_true(bs__nm_peer_up(&f->nm, ISS));
    nm_teardown(state);
}

/* An unanswered sign-on is repeated at the next tick, and until answered 00. */
static void sign_on_repeated_until_acknowledged(void **state)
{
    struct nm_fx *f = nm_start(state, true);
    struct bs_iso_msg m, r;

    bs__nm_admin(&f->nm, BS_ADMIN_START);
    fire(f);
    /* The repeat of the sign-on, then the echo test. */
    assert_int_equal(f->env.nsent, 2);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "001", &m);
    assert_true(journal_has(&f->env, "sign-on not acknowledged: repeated"));
    /* Refused (RC 91): still owed. */
    answer(&m, "91", &r);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &r, 0));
    fire(f);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "001", &m);
    answer(&m, "00", &r);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &r, 0));
    fire(f);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "301", &m);
    nm_teardown(state);
}

/* missed_echoes unanswered echo tests in a row mark the peer down ("peer down" state
 * record, counter, callback); the first answered one marks it up again. */
static void missed_echoes_mark_down_answer_marks_up(void **state)
{
    struct nm_fx *f = nm_start(state, true);
    struct bs_iso_msg m, r;

    bs__nm_admin(&f->nm, BS_ADMIN_START);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "001", &m);
    answer(&m, "00", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    fire(f); /* echo 1 */
    fire(f); /* echo 1 missed, echo 2 */
    fire(f); /* echo 2 missed, echo 3 */
    assert_int_equal(f->env.stats[BS_STAT_ECHO_MISSED], 2);
    assert_true(bs__nm_peer_up(&f->nm, ISS));
    assert_int_equal(f->changes, 0);
    fire(f); /* echo 3 missed: down; echo 4 is still sent (only echoes go to a down peer) */
    assert_int_equal(f->env.stats[BS_STAT_ECHO_MISSED], 3);
    assert_false(bs__nm_peer_up(&f->nm, ISS));
    assert_int_equal(f->env.stats[BS_STAT_PEER_DOWN], 1);
    assert_true(journal_has(&f->env, "peer down: 3 echo tests unanswered"));
    assert_int_equal(f->changes, 1);
    assert_int_equal(f->last_peer, ISS);
    assert_false(f->last_up);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "301", &m);
    /* Another miss while down: counted, no second "down". */
    fire(f);
    assert_int_equal(f->env.stats[BS_STAT_PEER_DOWN], 1);
    assert_int_equal(f->changes, 1);
    /* An answer to an older echo test does not count. */
    answer(&m, "00", &r);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &r, 0));
    assert_false(bs__nm_peer_up(&f->nm, ISS));
    /* The current one does. */
    expect_sent(&f->env, f->d, 0, ISS, "0800", "301", &m);
    answer(&m, "00", &r);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &r, 0));
    assert_true(bs__nm_peer_up(&f->nm, ISS));
    assert_int_equal(f->env.stats[BS_STAT_PEER_UP], 1);
    assert_int_equal(f->env.stats[BS_STAT_ECHO_ANSWERED], 1);
    assert_true(journal_has(&f->env, "peer up: echo test answered"));
    assert_int_equal(f->changes, 2);
    assert_true(f->last_up);
    /* A duplicate of that answer changes nothing. */
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &r, 0));
    assert_int_equal(f->env.stats[BS_STAT_ECHO_ANSWERED], 1);
    /* The miss count started again: two more misses do not mark it down. */
    fire(f);
    fire(f);
    assert_true(bs__nm_peer_up(&f->nm, ISS));
    nm_teardown(state);
}

/* A peer's 002 marks it down, its 001 up again; each is answered 0810 00 with DE 70. */
static void peer_sign_off_and_on(void **state)
{
    struct nm_fx *f = nm_start(state, false);
    struct bs_iso_msg m, r;

    peer_0800(f, "002", &m);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &m, 0));
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0810", "002", &r);
    expect_rc(&r, "00");
    assert_false(bs__nm_peer_up(&f->nm, ISS));
    assert_true(journal_has(&f->env, "peer down: signed off"));
    assert_int_equal(f->changes, 1);
    /* Said twice: answered twice, down once. */
    peer_0800(f, "002", &m);
    bs__nm_on_message(&f->nm, f->d, ISS, &m, 0);
    assert_int_equal(f->env.stats[BS_STAT_PEER_DOWN], 1);
    t_env_clear(&f->env);
    peer_0800(f, "001", &m);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &m, 0));
    expect_sent(&f->env, f->d, 0, ISS, "0810", "001", &r);
    expect_rc(&r, "00");
    assert_true(bs__nm_peer_up(&f->nm, ISS));
    assert_true(journal_has(&f->env, "peer up: signed on"));
    assert_int_equal(f->changes, 2);
    assert_true(f->last_up);
    nm_teardown(state);
}

/* A signed-off node tells every peer (002, repeated until acknowledged), answers echo tests
 * 91, and signs on (001) at the end; a peer's echo answered 91 marks that peer down. */
static void signed_off_node(void **state)
{
    struct nm_fx *f = nm_start(state, false);
    struct bs_iso_msg m, r;

    bs__nm_admin(&f->nm, BS_ADMIN_SIGN_OFF);
    assert_true(bs__nm_signed_off(&f->nm));
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "002", &m);
    assert_true(journal_has(&f->env, "signed off"));
    assert_int_equal(f->env.ntimers, 1);
    bs__nm_admin(&f->nm, BS_ADMIN_SIGN_OFF); /* again: nothing */
    assert_int_equal(f->env.nsent, 1);
    /* Echo test from the peer: alive, not in service. */
    peer_0800(f, "301", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    expect_sent(&f->env, f->d, 1, ISS, "0810", "301", &r);
    expect_rc(&r, "91");
    /* The sign-off is acknowledged: the non-originating end stops its timer. */
    answer(&m, "00", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    fire(f);
    assert_int_equal(f->env.nsent, 0);
    assert_int_equal(f->env.ntimers, 0);
    bs__nm_admin(&f->nm, BS_ADMIN_SIGN_ON);
    assert_false(bs__nm_signed_off(&f->nm));
    expect_sent(&f->env, f->d, 0, ISS, "0800", "001", &m);
    peer_0800(f, "301", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    expect_sent(&f->env, f->d, 1, ISS, "0810", "301", &r);
    expect_rc(&r, "00");
    nm_teardown(state);
}

static void echo_answered_91_marks_down(void **state)
{
    struct nm_fx *f = nm_start(state, true);
    struct bs_iso_msg m, r;

    bs__nm_admin(&f->nm, BS_ADMIN_START);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "001", &m);
    answer(&m, "00", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    fire(f);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "301", &m);
    answer(&m, "91", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    assert_false(bs__nm_peer_up(&f->nm, ISS));
    assert_true(journal_has(&f->env, "peer down: echo test answered 91 (signed off)"));
    /* An echo answered 30 (damaged on the way): the link works, the state stays. */
    fire(f);
    expect_sent(&f->env, f->d, 0, ISS, "0800", "301", &m);
    answer(&m, "30", &r);
    bs__nm_on_message(&f->nm, f->d, ISS, &r, 0);
    assert_false(bs__nm_peer_up(&f->nm, ISS));
    assert_int_equal(f->env.stats[BS_STAT_ECHO_MISSED], 0);
    nm_teardown(state);
}

/* An 0800 without a valid DE 70 is answered 30, an unknown code 12. */
static void bad_requests(void **state)
{
    struct nm_fx *f = nm_start(state, false);
    struct bs_iso_msg m, r;

    peer_0800(f, NULL, &m);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &m, 0));
    expect_sent(&f->env, f->d, 0, ISS, "0810", NULL, &r);
    expect_rc(&r, "30");
    peer_0800(f, "161", &m);
    assert_true(bs__nm_on_message(&f->nm, f->d, ISS, &m, 0));
    expect_sent(&f->env, f->d, 1, ISS, "0810", "161", &r);
    expect_rc(&r, "12");
    assert_true(bs__nm_peer_up(&f->nm, ISS));
    /* From a node that is not a managed peer: answered, no state. */
    peer_0800(f, "002", &m);
    assert_true(bs__nm_on_message(&f->nm, f->d, ACQ, &m, 0));
    expect_sent(&f->env, f->d, 2, ACQ, "0810", "002", &r);
    assert_true(bs__nm_peer_up(&f->nm, ACQ));
    assert_int_equal(f->changes, 0);
    nm_teardown(state);
}

static void policy_checks(void **state)
{
    struct nm_fx *f = nm_start(state, true);
    struct bs_netmgmt_policy off = { 0 }, bad = { .enabled = true,
                                                  .echo_interval = BS_US_PER_SEC / 2,
                                                  .missed_echoes = 3 };

    /* Off: nothing managed, always up. */
    assert_int_equal(bs__nm_add_peer(&f->nm, ACQ, f->d, &off, NULL), 0);
    assert_int_equal(f->nm.npeers, 1);
    assert_true(bs__nm_peer_up(&f->nm, ACQ));
    assert_int_equal(bs__nm_add_peer(&f->nm, ACQ, f->d, &bad, NULL), BS_EINVAL);
    bad.echo_interval = BS_US_PER_SEC;
    bad.missed_echoes = 0;
    assert_int_equal(bs__nm_add_peer(&f->nm, ACQ, f->d, &bad, NULL), BS_EINVAL);
    bad.missed_echoes = 1;
    assert_int_equal(bs__nm_add_peer(&f->nm, ACQ, NULL, &bad, NULL), BS_EINVAL);
    assert_int_equal(bs__nm_add_peer(&f->nm, ISS, f->d, &bad, NULL), BS_EEXIST);
    for (uint32_t i = 0; f->nm.npeers < BS__NM_MAX_PEERS; i++)
        assert_int_equal(bs__nm_add_peer(&f->nm, 100 + i, f->d, &bad, NULL), 0);
    assert_int_equal(bs__nm_add_peer(&f->nm, 99, f->d, &bad, NULL), BS_ELIMIT);
    /* A stale cookie is harmless. */
    bs__nm_on_timer(&f->nm, BS__NM_MAX_PEERS + 5);
    nm_teardown(state);
}

/* ---- the SAF queue's hold ------------------------------------------------------------------ */

struct saf_fx {
    struct bs_iso_dialect *d;
    struct t_env env;
    struct bs_node node;
    struct bs__revq q;
};

static int saf_teardown(void **state)
{
    struct saf_fx *f = *state;

    if (f) {
        bs__revq_deinit(&f->q);
        t_env_deinit(&f->env);
        bs_iso_dialect_free(f->d);
        free(f);
    }
    *state = NULL;
    return 0;
}

static struct saf_fx *saf_start(void **state, size_t window)
{
    struct saf_fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    *state = f;
    f->d = t_load_dialect("shetab");
    t_env_init(&f->env, NOW);
    t_plain_node(&f->node, &f->env, SW, "shetab.switch", NULL, NULL);
    assert_int_equal(
        bs__saf_init(&f->q, &f->node, 16, window, 5 * BS_US_PER_SEC, 60 * BS_US_PER_SEC), 0);
    return f;
}

/* Store a stand-in advice numbered @n (its STAN). */
static void store(struct saf_fx *f, unsigned n)
{
    struct bs_canon c;

    memset(&c, 0, sizeof(c));
    memcpy(c.mti, "0200", 5);
    snprintf(c.pan, sizeof(c.pan), "6037990000000018");
    memcpy(c.proc, "000000", 7);
    c.amount = 1000 + n;
    c.billing = -1;
    snprintf(c.stan, sizeof(c.stan), "%06u", n);
    memcpy(c.dt, "0302090000", 11);
    memcpy(c.acq, "601", 4);
    memcpy(c.rc, "00", 3);
    memcpy(c.auth, "S00001", 7);
    memcpy(c.currency, "364", 4);
    assert_int_equal(bs__revq_start(&f->q, ISS, f->d, &c, "test", n), 0);
}

/* Send @i: its MTI and DE 11. */
static void expect_advice(struct saf_fx *f, size_t i, const char *mti, unsigned n,
                          struct bs_iso_msg *m)
{
    struct bs_iso_error err;
    char stan[7], want[7];

    assert_true(i < f->env.nsent);
    assert_int_equal(bs_iso_unpack(f->d, f->env.sent[i].buf, f->env.sent[i].n, m, &err), 0);
    assert_string_equal(m->mti, mti);
    assert_int_equal(bs_iso_msg_get_str(m, 11, stan, sizeof(stan)), 6);
    snprintf(want, sizeof(want), "%06u", n);
    assert_string_equal(stan, want);
}

static void ack(struct saf_fx *f, const struct bs_iso_msg *advice)
{
    struct bs_iso_msg r;

    assert_int_equal(bs_msg_make_response(advice, &r, "00"), 0);
    assert_true(bs__revq_on_response(&f->q, &r));
}

/* Held, nothing leaves; released, the stored advices go out in storing order. */
static void saf_held_then_drained_in_order(void **state)
{
    struct saf_fx *f = saf_start(state, 16);
    struct bs_iso_msg m;

    bs__revq_hold(&f->q, true);
    bs__revq_hold(&f->q, true);
    for (unsigned n = 1; n <= 5; n++)
        store(f, n);
    assert_int_equal(f->env.nsent, 0);
    assert_int_equal(f->q.open, 5);
    bs__revq_hold(&f->q, false);
    assert_int_equal(f->env.nsent, 5);
    for (unsigned n = 1; n <= 5; n++)
        expect_advice(f, n - 1, "0220", n, &m);
    assert_int_equal(f->env.stats[BS_STAT_ADVICE_SENT], 5);
    bs__revq_hold(&f->q, false); /* resuming a running queue changes nothing */
    assert_int_equal(f->env.nsent, 5);
    saf_teardown(state);
}

/* A repeat that falls due while held is deferred (not sent, not re-armed); on resume the
 * deferred repeats go first, in storing order, then the queue as the window allows. */
static void saf_deferred_repeats_resent_first(void **state)
{
    struct saf_fx *f = saf_start(state, 2);
    struct bs_iso_msg a1, a2, m;
    struct t_timer t1, t2;

    store(f, 1);
    store(f, 2);
    store(f, 3);
    assert_int_equal(f->env.nsent, 2); /* the window */
    expect_advice(f, 0, "0220", 1, &a1);
    expect_advice(f, 1, "0220", 2, &a2);
    assert_int_equal(f->env.ntimers, 2);
    t1 = f->env.timers[0];
    t2 = f->env.timers[1];
    t_env_clear(&f->env);
    bs__revq_hold(&f->q, true);
    /* Both repeats fall due while held, the second one first. */
    bs__revq_on_timer(&f->q, t2.cookie);
    bs__revq_on_timer(&f->q, t1.cookie);
    assert_int_equal(f->env.nsent, 0);
    assert_int_equal(f->env.ntimers, 0);
    assert_int_equal(f->env.stats[BS_STAT_ADVICE_REPEAT], 0);
    /* An acknowledgement still counts while held, but nothing new goes out. */
    ack(f, &a2);
    assert_int_equal(f->env.nsent, 0);
    assert_int_equal(f->q.open, 2);
    bs__revq_hold(&f->q, false);
    /* Advice 1 repeated (0221), then advice 3 into the freed window. */
    assert_int_equal(f->env.nsent, 2);
    expect_advice(f, 0, "0221", 1, &m);
    expect_advice(f, 1, "0220", 3, &m);
    assert_int_equal(f->env.stats[BS_STAT_ADVICE_REPEAT], 1);
    assert_int_equal(f->env.ntimers, 2);
    ack(f, &a1);
    ack(f, &m);
    assert_int_equal(f->q.open, 0);
    saf_teardown(state);
}

/* ---- a switch routing around a signed-off issuer ------------------------------------------ */

struct sw_fx {
    struct bs_iso_dialect *d;
    struct t_env env;
    struct bs_bin_table routes;
    struct bs_node iss, acq;
    struct bs_node *sw;
    uint32_t stan;
};

static int sw_teardown(void **state)
{
    struct sw_fx *f = *state;

    if (f) {
        bs_node_free(f->sw);
        bs_bin_table_deinit(&f->routes);
        t_env_deinit(&f->env);
        bs_iso_dialect_free(f->d);
        free(f);
    }
    *state = NULL;
    return 0;
}

static struct sw_fx *sw_start(void **state)
{
    struct sw_fx *f = calloc(1, sizeof(*f));
    static const uint32_t members[] = { ACQ, ISS };
    struct bs_switch_cfg cfg = {
        .name = "shetab.switch",
        .inst_id = "60000000001",
        .bridge = UINT32_MAX,
        .stip = { .enabled = true, .max_amount = { 100000, 100000 } },
        .saf_window = 16,
        .reversal_max_repeats = 6,
        .reversal_backoff = 5 * BS_US_PER_SEC,
        .reversal_backoff_max = 60 * BS_US_PER_SEC,
        .nm = { .enabled = true, .originate = true, .echo_interval = INTERVAL, .missed_echoes = 3 },
        .members = members,
        .nmembers = 2,
    };

    assert_non_null(f);
    *state = f;
    f->d = t_load_dialect("shetab");
    t_env_init(&f->env, NOW);
    bs_bin_table_init(&f->routes);
    assert_int_equal(bs_bin_table_add(&f->routes, 603799, 603799, 6, ISS), 0);
    for (int c = 0; c < 2; c++)
        cfg.timers[c] = (struct bs_timer_set){ 8, 10, 15, 20, 30 };
    cfg.dialect = f->d;
    cfg.routes = &f->routes;
    t_plain_node(&f->iss, &f->env, ISS, "shetab.MELLI", NULL, NULL);
    t_plain_node(&f->acq, &f->env, ACQ, "shetab.SHETABACQ1", NULL, NULL);
    assert_int_equal(bs_switch_new(&cfg, NULL, NULL, &f->sw), 0);
    f->sw->env = &f->env.env;
    f->sw->id = SW;
    f->env.names[SW] = f->sw->name;
    f->stan = 700;
    return f;
}

/* Node @from packs @m and the switch receives it; its sends are left captured. */
static void to_switch(struct sw_fx *f, uint32_t from, struct bs_iso_msg *m)
{
    struct bs_iso_error err;
    uint8_t buf[BS_WIRE_MAX];
    size_t n;

    assert_int_equal(bs_iso_pack(f->d, m, buf, sizeof(buf), &n, &err), 0);
    t_env_clear(&f->env);
    f->sw->ops->on_message(f->sw, from, buf, n, 0);
}

static void make_0200(struct sw_fx *f, struct bs_iso_msg *m, int64_t amount)
{
    char stan[7];

    snprintf(stan, sizeof(stan), "%06u", ++f->stan);
    assert_int_equal(bs_iso_msg_init(m, "0200"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 2, "6037990000000018"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 3, "000000"), 0);
    assert_int_equal(bs_iso_msg_set_num(m, 4, amount, 12), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0302090000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, stan), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 32, "60100000001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 37, "600000000001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 41, "TERM0001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 49, "364"), 0);
}

static void issuer_0800(struct sw_fx *f, const char *code, struct bs_iso_msg *m)
{
    char stan[7];

    snprintf(stan, sizeof(stan), "%06u", ++f->stan);
    assert_int_equal(bs_iso_msg_init(m, "0800"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0302090100"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, stan), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 70, code), 0);
}

static void switch_routes_around_signed_off_issuer(void **state)
{
    struct sw_fx *f = sw_start(state);
    struct bs_iso_msg m, r, req[3], adv[2];
    char auth[7], stan[7], want[7];

    /* Start: the switch signs on to its acquirer and its issuer and arms their timers. */
    f->sw->ops->on_admin(f->sw, BS_ADMIN_START);
    assert_int_equal(f->env.nsent, 2);
    expect_sent(&f->env, f->d, 0, ACQ, "0800", "001", &m);
    expect_sent(&f->env, f->d, 1, ISS, "0800", "001", &m);
    assert_int_equal(f->env.ntimers, 2);

    /* While it is up, a request goes to the issuer. */
    make_0200(f, &req[0], 5000);
    to_switch(f, ACQ, &req[0]);
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(f->env.sent[0].to, ISS);

    /* Melli signs off: answered 0810 00, marked down. */
    issuer_0800(f, "002", &m);
    to_switch(f, ISS, &m);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ISS, "0810", "002", &r);
    expect_rc(&r, "00");
    assert_true(journal_has(&f->env, "peer down: signed off"));

    /* Within the limit: approved in stand-in at once, nothing to the issuer, no timer. */
    make_0200(f, &req[1], 5000);
    to_switch(f, ACQ, &req[1]);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ACQ, "0210", NULL, &r);
    expect_rc(&r, "00");
    assert_int_equal(bs_iso_msg_get_str(&r, 38, auth, sizeof(auth)), 6);
    assert_int_equal(auth[0], 'S');
    for (size_t i = 0; i < f->env.ntimers; i++) /* only the expiry sweep, no response timer */
        assert_int_not_equal(f->env.timers[i].kind, 1);
    assert_int_equal(f->env.stats[BS_STAT_STAND_IN_PEER_DOWN], 1);
    assert_int_equal(bs_switch_open_advices(f->sw), 1);
    /* Above it: RC 91 at once, nothing forwarded, nothing to reverse. */
    make_0200(f, &m, 500000);
    to_switch(f, ACQ, &m);
    assert_int_equal(f->env.nsent, 1);
    expect_sent(&f->env, f->d, 0, ACQ, "0210", NULL, &r);
    expect_rc(&r, "91");
    assert_int_equal(f->env.stats[BS_STAT_PEER_DOWN_DECLINED], 1);
    assert_int_equal(bs_switch_open_reversals(f->sw), 0);
    make_0200(f, &req[2], 7000);
    to_switch(f, ACQ, &req[2]);
    expect_sent(&f->env, f->d, 0, ACQ, "0210", NULL, &r);
    expect_rc(&r, "00");
    assert_int_equal(bs_switch_open_advices(f->sw), 2);

    /* Melli signs on: the 0810 first, then the SAF queue in storing order. */
    issuer_0800(f, "001", &m);
    to_switch(f, ISS, &m);
    assert_int_equal(f->env.nsent, 3);
    expect_sent(&f->env, f->d, 0, ISS, "0810", "001", &r);
    expect_rc(&r, "00");
    assert_true(journal_has(&f->env, "peer up: signed on"));
    for (int i = 1; i <= 2; i++) {
        expect_sent(&f->env, f->d, (size_t)i, ISS, "0220", NULL, &adv[i - 1]);
        assert_int_equal(bs_iso_msg_get_str(&adv[i - 1], 11, stan, sizeof(stan)), 6);
        assert_int_equal(bs_iso_msg_get_str(&req[i], 11, want, sizeof(want)), 6);
        assert_string_equal(stan, want);
    }
    /* Acknowledged (0230): the queue is empty. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bs_msg_make_response(&adv[i], &r, "00"), 0);
        to_switch(f, ISS, &r);
    }
    assert_int_equal(bs_switch_open_advices(f->sw), 0);
    assert_int_equal(f->env.stats[BS_STAT_ADVICE_DONE], 2);
    sw_teardown(state);
}

int main(void)
{
    int failed;

    /* Before any object exists, as bs_set_allocator() requires. */
    t_use_test_allocator();
#define N(fn, td) cmocka_unit_test_setup_teardown(fn, NULL, td)
    const struct CMUnitTest netmgmt[] = {
        N(originator_signs_on, nm_teardown),
        N(answerer_is_quiet, nm_teardown),
        N(sign_on_repeated_until_acknowledged, nm_teardown),
        N(missed_echoes_mark_down_answer_marks_up, nm_teardown),
        N(peer_sign_off_and_on, nm_teardown),
        N(signed_off_node, nm_teardown),
        N(echo_answered_91_marks_down, nm_teardown),
        N(bad_requests, nm_teardown),
        N(policy_checks, nm_teardown),
        N(saf_held_then_drained_in_order, saf_teardown),
        N(saf_deferred_repeats_resent_first, saf_teardown),
        N(switch_routes_around_signed_off_issuer, sw_teardown),
    };
#undef N
    failed = cmocka_run_group_tests_name("netmgmt", netmgmt, NULL, NULL);
    bs_set_allocator(NULL);
    return failed ? 1 : 0;
}
