/*
 * Transaction types and FX across the bridge (issue #6 items 4 and 6), with the bridge node
 * (src/bridge/bridge.c) and a terminal pool and acquirer host (src/network/terminal.c,
 * acquirer.c) in the fake environment: plain nodes play the two scheme switches.
 *
 * - the mid rate changes at a scheduled time: new requests get the new DE 6 and DE 10, a
 *   reversal of an earlier one carries that one's DE 6 and DE 10 exactly;
 * - a refund is converted at the other side of the mid (markup against the cardholder);
 * - a balance inquiry's DE 54 gets a second set in the acquirer's currency;
 * - a cardholder cancellation: terminal 0400 (lost, repeated as 0401) → acquirer 0410 and
 *   one 0420 (DE 39 17) to the switch, never two; a repeat is acknowledged without a
 *   second reversal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/bridge.h>
#include <bridgesim/money.h>
#include <bridgesim/network.h>

#include "net_test.h"

enum { MIRSW = 0, SHETABSW = 1, BRIDGE = 2 };

/* 2026-03-02T20:00:00Z */
#define NOW INT64_C(1772481600000000)
#define MIN (60 * BS_US_PER_SEC)

#define MIR_CARD "2200000000000011"

struct bfx {
    struct bs_iso_dialect *mir, *shetab;
    struct bs_bin_table routes;
    struct t_env env;
    struct bs_node sw[2];
    struct bs_node *bridge;
    uint32_t stan;
};

static void bfx_build(struct bfx *f, uint32_t markup_bps)
{
    const struct bs_fx_change ch[] = { { NOW + 10 * MIN, { 460000, 2 } } };
    struct bs_bridge_cfg cfg = {
        .name = "bridge",
        .mid = { 451025, 2 },
        .fx_changes = ch,
        .nfx_changes = 1,
        .base_currency = 643,
        .markup_bps = markup_bps,
        .retention = 15 * MIN,
        .saf_window = 4,
        .reversal_max_repeats = 3,
        .reversal_backoff = BS_US_PER_SEC,
        .reversal_backoff_max = 4 * BS_US_PER_SEC,
    };

    f->mir = t_load_dialect("mir");
    f->shetab = t_load_dialect("shetab");
    bs_bin_table_init(&f->routes);
    assert_int_equal(bs_bin_table_add(&f->routes, 2200, 2204, 4, 0), 0);
    assert_int_equal(bs_bin_table_add(&f->routes, 603799, 603799, 6, 1), 0);
    cfg.routes = &f->routes;
    cfg.side[0] = (struct bs_bridge_side){ "mir", MIRSW, f->mir, "22990000001", 643, 2 };
    cfg.side[1] = (struct bs_bridge_side){ "shetab", SHETABSW, f->shetab, "60999900001", 364, 0 };
    for (int c = 0; c < BS_CH_COUNT; c++)
        cfg.timers[c] = (struct bs_timer_set){ 8, 10, 15, 20, 30 };
    t_env_init(&f->env, NOW);
    t_plain_node(&f->sw[0], &f->env, MIRSW, "mir.switch", NULL, NULL);
    t_plain_node(&f->sw[1], &f->env, SHETABSW, "shetab.switch", NULL, NULL);
    assert_int_equal(bs_bridge_new(&cfg, NULL, NULL, &f->bridge), 0);
    f->bridge->env = &f->env.env;
    f->bridge->id = BRIDGE;
    f->env.names[BRIDGE] = f->bridge->name;
    f->stan = 0;
}

static void bfx_free(struct bfx *f)
{
    bs_node_free(f->bridge);
    t_env_deinit(&f->env);
    bs_bin_table_deinit(&f->routes);
    bs_iso_dialect_free(f->mir);
    bs_iso_dialect_free(f->shetab);
    free(f);
}

static int bfx_setup(void **state)
{
    *state = NULL;
    return 0;
}

static int bfx_teardown(void **state)
{
    if (*state)
        bfx_free(*state);
    return 0;
}

static struct bfx *bstart(void **state, uint32_t markup_bps)
{
    struct bfx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    *state = f;
    bfx_build(f, markup_bps);
    return f;
}

static void bfinish(void **state)
{
    bfx_free(*state);
    *state = NULL;
}

/* A Shetab acquirer's request for a Mir card, @amount rials, DE 3 @proc. */
static void shetab_req(struct bfx *f, struct bs_iso_msg *m, const char *mti, const char *proc,
                       int64_t amount)
{
    char stan[7];

    snprintf(stan, sizeof(stan), "%06u", ++f->stan);
    assert_int_equal(bs_iso_msg_init(m, mti), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 2, MIR_CARD), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 3, proc), 0);
    assert_int_equal(bs_iso_msg_set_num(m, 4, amount, 12), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0302200000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, stan), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 32, "60100000001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 37, "606120000001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 41, "T0000001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 49, "364"), 0);
}

/*
 * Switch @from sends @m to the bridge; what the bridge sends (one message, to @to) is
 * decoded into @out in @to's dialect.
 */
static void via_bridge(struct bfx *f, uint32_t from, struct bs_iso_msg *m, uint32_t to,
                       struct bs_iso_msg *out)
{
    uint8_t buf[BS_WIRE_MAX];
    enum bs_sig_status st;
    size_t n;

    f->env.nsent = 0;
    assert_int_equal(bs_node_send(&f->sw[from], from == MIRSW ? f->mir : f->shetab, BRIDGE, m, 1),
                     0);
    assert_int_equal(f->env.nsent, 1);
    n = f->env.sent[0].n;
    memcpy(buf, f->env.sent[0].buf, n);
    f->env.nsent = 0;
    f->bridge->ops->on_message(f->bridge, from, buf, n, 1);
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(f->env.sent[0].to, to);
    assert_int_equal(bs_node_recv(&f->sw[to], to == MIRSW ? f->mir : f->shetab, BRIDGE,
                                  f->env.sent[0].buf, f->env.sent[0].n, 1, out, &st),
                     0);
}

static void get(const struct bs_iso_msg *m, unsigned de, char *out, size_t cap)
{
    assert_true(bs_iso_msg_get_str(m, de, out, cap) > 0);
}

/* The Mir side approves @fwd (the bridge's leg) and the answer goes back to Shetab. */
static void approve(struct bfx *f, const struct bs_iso_msg *fwd, const char *de54,
                    struct bs_iso_msg *back)
{
    struct bs_iso_msg resp;

    assert_int_equal(bs_msg_make_response(fwd, &resp, "00"), 0);
    if (de54)
        assert_int_equal(bs_iso_msg_set_str(&resp, 54, de54), 0);
    via_bridge(f, MIRSW, &resp, SHETABSW, back);
}

/* DE 10 of mid rate @num / 100 without markup (as the bridge writes it: 7 digits). */
static void applied_de10(int64_t num, char out[9])
{
    struct bs_rate applied;

    assert_int_equal(bs_rate_markup((struct bs_rate){ num, 2 }, 0, true, &applied), 0);
    assert_int_equal(bs_rate_de10(applied, out), 0);
}

static void rate_change_and_reversal_at_original_rate(void **state)
{
    struct bfx *f = bstart(state, 0);
    struct bs_iso_msg req, fwd, back, rev, fwd2;
    char de6[13], de10[9], de10b[9], want10[9], orig[43];

    /* Before the change: 451,025 IRR = 100.00 RUB at 4510.25. */
    shetab_req(f, &req, "0200", "000000", 451025);
    via_bridge(f, SHETABSW, &req, MIRSW, &fwd);
    get(&fwd, 6, de6, sizeof(de6));
    get(&fwd, 10, de10, sizeof(de10));
    assert_string_equal(de6, "000000010000");
    applied_de10(451025, want10);
    assert_string_equal(de10, want10);
    approve(f, &fwd, NULL, &back);
    assert_int_equal(f->env.stats[BS_STAT_FX_RATE_CHANGE], 0);

    /* Ten minutes later the mid is 4600: 451,025 IRR = 98.0489 → 98.05 RUB. */
    f->env.env.now = NOW + 10 * MIN;
    shetab_req(f, &req, "0200", "000000", 451025);
    via_bridge(f, SHETABSW, &req, MIRSW, &fwd2);
    get(&fwd2, 6, de6, sizeof(de6));
    get(&fwd2, 10, de10b, sizeof(de10b));
    assert_string_equal(de6, "000000009805");
    applied_de10(460000, want10);
    assert_string_equal(de10b, want10);
    assert_int_equal(f->env.stats[BS_STAT_FX_RATE_CHANGE], 1);

    /* The first transaction's reversal, now: its own DE 6 and DE 10, not today's. */
    shetab_req(f, &rev, "0420", "000000", 451025);
    snprintf(orig, sizeof(orig), "0200%06u0302200000%011llu%011u", 1u, 60100000001ull, 0u);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, orig), 0);
    assert_int_equal(bs_iso_msg_set_str(&rev, 39, "17"), 0);
    via_bridge(f, SHETABSW, &rev, MIRSW, &fwd2);
    assert_string_equal(fwd2.mti, "0420");
    get(&fwd2, 6, de6, sizeof(de6));
    get(&fwd2, 10, de10b, sizeof(de10b));
    assert_string_equal(de6, "000000010000");
    assert_string_equal(de10b, de10);
    /* The reason travels: a cardholder cancellation stays one. */
    get(&fwd2, 39, orig, sizeof(orig));
    assert_string_equal(orig, "17");
    bfinish(state);
}

static void refund_converted_against_cardholder(void **state)
{
    struct bfx *f = bstart(state, 50);
    struct bs_iso_msg req, fwd;
    char de6[13];
    int64_t debit, credit;
    char r1[9], r2[9];

    shetab_req(f, &req, "0200", "000000", 4510250);
    via_bridge(f, SHETABSW, &req, MIRSW, &fwd);
    get(&fwd, 6, de6, sizeof(de6));
    debit = strtoll(de6, NULL, 10);
    shetab_req(f, &req, "0200", "200000", 4510250);
    via_bridge(f, SHETABSW, &req, MIRSW, &fwd);
    get(&fwd, 6, de6, sizeof(de6));
    credit = strtoll(de6, NULL, 10);
    /* 1000.00 RUB at the mid; a purchase costs the card more, a refund gives it less. */
    assert_true(debit > 100000);
    assert_true(credit < 100000);
    assert_int_equal(bs_bridge_convert(f->bridge, 4510250, 364, 643, &debit, r1), 0);
    assert_int_equal(bs_bridge_convert_credit(f->bridge, 4510250, 364, 643, &credit, r2), 0);
    assert_int_equal(credit, strtoll(de6, NULL, 10));
    assert_string_not_equal(r1, r2);
    bfinish(state);
}

static void balance_inquiry_de54_both_currencies(void **state)
{
    struct bfx *f = bstart(state, 0);
    struct bs_iso_msg req, fwd, back;
    struct bs_addl_amount a;
    char de54[64], de6[13];

    shetab_req(f, &req, "0100", "310000", 0);
    via_bridge(f, SHETABSW, &req, MIRSW, &fwd);
    assert_string_equal(fwd.mti, "0100");
    get(&fwd, 6, de6, sizeof(de6));
    assert_string_equal(de6, "000000000000");
    /* 1,234.56 RUB available: 123456 × 4510.25 / 100 = 5,568,174.24 → 5,568,174 IRR. */
    approve(f, &fwd, "0002643C000000123456", &back);
    assert_string_equal(back.mti, "0110");
    get(&back, 54, de54, sizeof(de54));
    assert_int_equal(strlen(de54), 2 * BS_ADDL_AMOUNT_LEN);
    assert_int_equal(bs_addl_amount_parse(de54, strlen(de54), 0, &a), 0);
    assert_int_equal(a.currency, 643);
    assert_int_equal(a.amount, 123456);
    assert_int_equal(bs_addl_amount_parse(de54, strlen(de54), 1, &a), 0);
    assert_int_equal(a.currency, 364);
    assert_int_equal(a.amount, 5568174);
    assert_string_equal(a.amount_type, "02");
    /* Not committed: nothing for clearing. */
    {
        struct bs_bridge_totals t;
        bs_bridge_totals(f->bridge, 0, &t);
        assert_int_equal(t.committed, 0);
    }
    bfinish(state);
}

/* ---- cancellation at the terminal and the acquirer ------------------------------------- */

enum { TERM = 3, ACQ = 4, SW = 5 };

struct cfx {
    struct bs_iso_dialect *d;
    struct t_env env;
    struct bs_node sw;
    struct bs_node *term, *acq;
};

static void cfx_free(struct cfx *f)
{
    bs_node_free(f->term);
    bs_node_free(f->acq);
    t_env_deinit(&f->env);
    bs_iso_dialect_free(f->d);
    free(f);
}

static int cfx_teardown(void **state)
{
    if (*state)
        cfx_free(*state);
    return 0;
}

/* Deliver captured send @i (then forget all captured sends). */
static void deliver(struct cfx *f, size_t i)
{
    struct t_sent s = f->env.sent[i];
    struct bs_node *to = s.to == TERM ? f->term : s.to == ACQ ? f->acq : NULL;

    f->env.nsent = 0;
    assert_non_null(to);
    to->ops->on_message(to, s.from, s.buf, s.n, s.trace);
}

static void fire_last_timer(struct cfx *f, uint32_t node)
{
    for (size_t i = f->env.ntimers; i-- > 0;) {
        struct t_timer t = f->env.timers[i];
        if (t.node != node)
            continue;
        f->env.env.now += t.delay;
        f->env.ntimers = 0;
        (node == TERM ? f->term : f->acq)
            ->ops->on_timer(node == TERM ? f->term : f->acq, t.kind, t.cookie);
        return;
    }
    fail_msg("no timer for node %u", node);
}

static void cancellation_reverses_once(void **state)
{
    struct cfx *f = calloc(1, sizeof(*f));
    struct bs_terminal_cfg tc = { .name = "mir.MIRACQ1.terminals",
                                  .acquirer = ACQ,
                                  .terminals = 10,
                                  .merchants = 5,
                                  .mcc = 5411,
                                  .location = "SHOP",
                                  .currency = 643 };
    struct bs_acquirer_cfg ac = { .name = "mir.MIRACQ1",
                                  .inst_id = "22100000001",
                                  .terminals = TERM,
                                  .sw = SW,
                                  .reversal_max_repeats = 3,
                                  .reversal_backoff = BS_US_PER_SEC,
                                  .reversal_backoff_max = 4 * BS_US_PER_SEC };
    struct bs_txn_request req = { .flow = 0,
                                  .channel = BS_CH_POS,
                                  .type = BS_TXN_CANCELLATION,
                                  .cancel_after = 3 * BS_US_PER_SEC,
                                  .pan = MIR_CARD,
                                  .expiry = "2812",
                                  .amount = 150000,
                                  .terminal = 1,
                                  .trace = 7 };
    struct bs_iso_msg m, resp;
    enum bs_sig_status st;
    char v[8], stan0[8];
    struct t_sent again;

    assert_non_null(f);
    *state = f;
    f->d = t_load_dialect("mir");
    tc.dialect = ac.dialect = f->d;
    for (int c = 0; c < BS_CH_COUNT; c++)
        tc.timers[c] = ac.timers[c] =
            (struct bs_timer_set){ 8, 10, 15, 20 * BS_US_PER_SEC, 30 * BS_US_PER_SEC };
    t_env_init(&f->env, NOW);
    t_plain_node(&f->sw, &f->env, SW, "mir.switch", NULL, NULL);
    assert_int_equal(bs_terminal_new(&tc, NULL, NULL, &f->term), 0);
    assert_int_equal(bs_acquirer_new(&ac, NULL, NULL, &f->acq), 0);
    f->term->env = f->acq->env = &f->env.env;
    f->term->id = TERM;
    f->acq->id = ACQ;
    f->env.names[TERM] = f->term->name;
    f->env.names[ACQ] = f->acq->name;

    /* A cancellation without a delay is refused. */
    req.cancel_after = 0;
    assert_int_equal(bs_terminal_start(f->term, &req), BS_EINVAL);
    req.cancel_after = 3 * BS_US_PER_SEC;
    assert_int_equal(bs_terminal_start(f->term, &req), 0);
    deliver(f, 0); /* 0200 to the acquirer, which forwards it */
    assert_int_equal(f->env.sent[0].to, SW);
    assert_int_equal(
        bs_node_recv(&f->sw, f->d, ACQ, f->env.sent[0].buf, f->env.sent[0].n, 7, &m, &st), 0);
    assert_string_equal(m.mti, "0200");
    get(&m, 3, v, sizeof(v));
    assert_string_equal(v, "000000");
    /* The switch approves; the terminal reports the purchase approved and waits. */
    assert_int_equal(bs_msg_make_response(&m, &resp, "00"), 0);
    f->env.nsent = 0;
    assert_int_equal(bs_node_send(&f->sw, f->d, ACQ, &resp, 7), 0);
    deliver(f, 0);
    deliver(f, 0); /* 0210 to the terminal */
    assert_int_equal(f->env.noutcomes, 1);
    assert_int_equal(f->env.last_type, BS_TXN_CANCELLATION);
    assert_string_equal(f->env.last_rc, "00");
    assert_int_equal(bs_terminal_in_flight(f->term), 1);

    /* 3 s later the cardholder cancels: 0400 with DE 39 17 and DE 90. It is lost. */
    fire_last_timer(f, TERM);
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(f->env.stats[BS_STAT_CANCEL_REQUESTED], 1);
    {
        struct t_sent s = f->env.sent[0];
        struct bs_iso_msg c400;
        assert_int_equal(bs_node_recv(&f->sw, f->d, TERM, s.buf, s.n, 7, &c400, &st), 0);
        assert_string_equal(c400.mti, "0400");
        get(&c400, 39, v, sizeof(v));
        assert_string_equal(v, "17");
        assert_true(bs_iso_msg_has(&c400, 90));
        get(&c400, 11, stan0, sizeof(stan0));
    }
    f->env.nsent = 0;
    /* No answer within the terminal timer: the same request again as 0401. */
    fire_last_timer(f, TERM);
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(f->env.stats[BS_STAT_CANCEL_REQUESTED], 1);
    {
        struct t_sent s = f->env.sent[0];
        struct bs_iso_msg c401;
        assert_int_equal(bs_node_recv(&f->sw, f->d, TERM, s.buf, s.n, 7, &c401, &st), 0);
        assert_string_equal(c401.mti, "0401");
        get(&c401, 11, v, sizeof(v));
        assert_string_equal(v, stan0);
    }
    again = f->env.sent[0];
    deliver(f, 0);
    /* The acquirer answers the terminal 0410 and sends one 0420 (DE 39 17) to the switch. */
    assert_int_equal(f->env.nsent, 2);
    {
        size_t to_sw = f->env.sent[0].to == SW ? 0 : 1;
        struct bs_iso_msg r;
        assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, f->env.sent[to_sw].buf,
                                      f->env.sent[to_sw].n, 7, &r, &st),
                         0);
        assert_string_equal(r.mti, "0420");
        get(&r, 39, v, sizeof(v));
        assert_string_equal(v, "17");
        assert_int_equal(f->env.stats[BS_STAT_CANCEL_SENT], 1);
        assert_int_equal(f->env.stats[BS_STAT_REVERSAL_SENT], 0);
        assert_int_equal(bs_acquirer_open_reversals(f->acq), 1);
        /* The repeat arrives twice (a duplicate on the link): answered, never reversed
         * twice. */
        f->env.sent[0] = again;
        f->env.nsent = 1;
        deliver(f, 0);
        assert_int_equal(f->env.nsent, 1);
        assert_int_equal(f->env.sent[0].to, TERM);
        assert_int_equal(f->env.stats[BS_STAT_CANCEL_SENT], 1);
        assert_int_equal(bs_acquirer_open_reversals(f->acq), 1);
        deliver(f, 0); /* the 0410 to the terminal: its business is over */
    }
    assert_int_equal(bs_terminal_in_flight(f->term), 0);
    assert_int_equal(f->env.noutcomes, 1);
    bs_node_free(f->term);
    f->term = NULL;
    cfx_free(f);
    *state = NULL;
}

int t_run_txn_types(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rate_change_and_reversal_at_original_rate, bfx_setup,
                                        bfx_teardown),
        cmocka_unit_test_setup_teardown(refund_converted_against_cardholder, bfx_setup,
                                        bfx_teardown),
        cmocka_unit_test_setup_teardown(balance_inquiry_de54_both_currencies, bfx_setup,
                                        bfx_teardown),
        cmocka_unit_test_setup_teardown(cancellation_reverses_once, bfx_setup, cfx_teardown),
    };

    return cmocka_run_group_tests_name("txn_types", tests, NULL, NULL);
}
