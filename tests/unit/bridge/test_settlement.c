/*
 * Unit tests for src/bridge/settlement.c: windows and cutover assignment, reversals and
 * adjustments, fee lines and their rounding, netting to zero, the settlement instruction
 * (hand-computed), reconciliation against an issuer ledger, and the invariants.
 *
 * Every expected amount below is computed by hand in the comment beside it, so a change of
 * one minor unit anywhere in the conversion (bs_fx_convert), the fee arithmetic or the
 * ledger postings (bs_ledger_debit/credit) fails a test here.
 *
 * Allocations go through cmocka's test_malloc(), so a leak fails the test that made it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/journal.h>
#include <bridgesim/money.h>
#include <bridgesim/settlement.h>

/* ---- allocator ------------------------------------------------------------------------ */

static void *t_malloc(size_t n)
{
    return test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    return test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

static const struct bs_allocator test_allocator = { t_malloc, t_calloc, t_realloc, t_free };

/* ---- a small world: Mir (RUB, exponent 2) side 0, Shetab (IRR, exponent 0) side 1 ----- */

#define MIR    0
#define SHETAB 1
#define RUB    643
#define IRR    364

/* 2026-03-02T21:00:00Z, a cutover at 21:00Z. */
#define T_CUT      INT64_C(1772485200000000)
#define CUTOVER_21 (INT64_C(21) * 3600 * BS_US_PER_SEC)
#define SEC        BS_US_PER_SEC

static const struct bs_settle_bin mirbank1_bins[] = { { 2200, 2201, 4 } };
static const struct bs_settle_bin mirbank2_bins[] = { { 2202, 2204, 4 } };
static const struct bs_settle_bin melli_bins[] = { { 603799, 603799, 6 } };
static const struct bs_settle_party_cfg mir_acq[] = { { "MIRACQ1", "22100000001", NULL, 0 } };
static const struct bs_settle_party_cfg mir_iss[] = {
    { "MIRBANK1", "22000000001", mirbank1_bins, 1 },
    { "MIRBANK2", "22020000001", mirbank2_bins, 1 },
};
static const struct bs_settle_party_cfg shetab_acq[] = { { "SHETABACQ1", "60100000001", NULL, 0 } };
static const struct bs_settle_party_cfg shetab_iss[] = { { "MELLI", "60379900001", melli_bins,
                                                           1 } };

static struct bs_settlement_cfg base_cfg(void)
{
    struct bs_settlement_cfg c;

    memset(&c, 0, sizeof(c));
    c.side[MIR] = (struct bs_settle_side_cfg){ "mir", "RUB", RUB, 2, 180, mir_acq, 1, mir_iss, 2 };
    c.side[SHETAB] =
        (struct bs_settle_side_cfg){ "shetab", "IRR", IRR, 0, 210, shetab_acq, 1, shetab_iss, 1 };
    c.base_currency = RUB;
    c.rate = (struct bs_rate){ 451025, 2 }; /* 4510.25 IRR per RUB */
    c.mid = c.rate;
    c.cutover = CUTOVER_21;
    c.start = T_CUT - 10 * 60 * SEC; /* 20:50Z */
    return c;
}

struct fixture {
    struct bs_settlement_cfg cfg;
    struct bs_settlement *s;
    struct bs_canon c[16]; /* records borrow these */
    size_t nc;
};

/* The fixture itself is plain heap memory; the settlement object is made and freed inside
 * each test (begin()/end()), so cmocka's per-test leak check covers all it allocates. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->cfg = base_cfg();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static struct fixture *begin(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(bs_settlement_new(&f->cfg, &f->s), 0);
    return f;
}

static void end(struct fixture *f)
{
    bs_settlement_free(f->s);
    f->s = NULL;
}

/* DE 10 of a rate ("20451025" for 4510.25). */
static void de10(struct bs_rate r, char out[9])
{
    assert_int_equal(bs_rate_de10(r, out), 0);
}

/*
 * A clearing record. @acq_side: where the card was used; @pan: the card; @atm: cash
 * withdrawal (DE 3 01xxxx) or purchase; @amount in the acquirer's minor units, @billing in
 * the issuer's; @rate the applied rate; @rrn also makes the key unique.
 */
static struct bs_clearing_record rec(struct fixture *f, enum bs_clearing_kind kind, bs_time_us t,
                                     int acq_side, const char *pan, bool atm, int64_t amount,
                                     int64_t billing, struct bs_rate rate, const char *rrn)
{
    struct bs_clearing_record r;
    struct bs_canon *c = NULL;

    /* A reversal carries its original's request: reuse the canon with that RRN. */
    for (size_t i = 0; i < f->nc; i++)
        if (strcmp(f->c[i].rrn, rrn) == 0)
            c = &f->c[i];
    if (!c) {
        assert_true(f->nc < 16);
        c = &f->c[f->nc++];
        memset(c, 0, sizeof(*c));
        snprintf(c->pan, sizeof(c->pan), "%s", pan);
        snprintf(c->proc, sizeof(c->proc), "%s", atm ? "011000" : "001000");
        snprintf(c->acq, sizeof(c->acq), "%s", acq_side == MIR ? "22100000001" : "60100000001");
        snprintf(c->stan, sizeof(c->stan), "%06u", (unsigned)f->nc);
        snprintf(c->dt, sizeof(c->dt), "0302205959");
        snprintf(c->rrn, sizeof(c->rrn), "%s", rrn);
        c->amount = amount;
    }
    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.t = t;
    r.acq_side = acq_side;
    r.iss_side = !acq_side;
    r.req = c;
    r.amount = amount;
    r.billing = billing;
    r.acq_currency = acq_side == MIR ? RUB : IRR;
    r.iss_currency = acq_side == MIR ? IRR : RUB;
    de10(rate, r.rate);
    return r;
}

static const struct bs_rate R4510 = { 451025, 2 };

#define SHETAB_CARD "6037990000000018"
#define MIR_CARD    "2200000000000011"

static int pidx(const struct bs_settlement *s, int side, enum bs_settle_role role, size_t k)
{
    int i = bs_settlement_party_index(s, side, role, k);

    assert_true(i >= 0);
    return i;
}

static const struct bs_settle_pos *pos(const struct bs_settlement *s, size_t win, int side,
                                       enum bs_settle_role role, size_t k)
{
    const struct bs_settle_window *w = bs_settlement_window(s, win);

    assert_non_null(w);
    return &w->pos[side][pidx(s, side, role, k)];
}

static void assert_invariants(const struct bs_settlement *s)
{
    struct bs_settle_check c;

    if (bs_settlement_check(s, &c) != 0)
        fail_msg("invariant: %s / %s / %s", c.nets, c.positions, c.window);
}

/* ---- cutover arithmetic ------------------------------------------------------------ */

static void test_next_cutover(void **state)
{
    (void)state;
    /* 20:59:59.999999Z belongs to the window ending at 21:00Z the same day ... */
    assert_int_equal(bs_settle_next_cutover(T_CUT - 1, CUTOVER_21), T_CUT);
    /* ... and 21:00:00Z exactly to the next one. */
    assert_int_equal(bs_settle_next_cutover(T_CUT, CUTOVER_21), T_CUT + BS_SETTLE_DAY);
    assert_int_equal(bs_settle_next_cutover(T_CUT + 1, CUTOVER_21), T_CUT + BS_SETTLE_DAY);
    /* A midnight cutover, and times before the epoch (floor division). */
    assert_int_equal(bs_settle_next_cutover(0, 0), BS_SETTLE_DAY);
    assert_int_equal(bs_settle_next_cutover(-1, 0), 0);
}

static void test_business_dates(void **state)
{
    (void)state;
    /* Cutover 2026-03-02T21:00Z: Moscow 00:00 and Tehran 00:30 on 03-03 locally, but the
     * window holds (almost) all of 03-02 in both: business date 2026-03-02. */
    assert_int_equal(bs_settle_business_date(T_CUT, 180), 20260302);
    assert_int_equal(bs_settle_business_date(T_CUT, 210), 20260302);
    /* Cutover 08:45Z: the window's middle is 20:45Z the day before = Moscow 23:45 (03-01)
     * but Tehran 00:15 (03-02): the business dates differ by a day. */
    bs_time_us c0845 = T_CUT - (12 * 60 + 15) * 60 * SEC;
    assert_int_equal(bs_settle_business_date(c0845, 180), 20260301);
    assert_int_equal(bs_settle_business_date(c0845, 210), 20260302);
}

/* ---- windows ------------------------------------------------------------------------ */

static void test_cutover_assignment(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_window *w;

    /* A Shetab card withdraws 1,000 RUB at a Mir ATM just before the cutover:
     * billing = 100000 × 4510.25 / 100 = 4,510,250 IRR. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 1, MIR, SHETAB_CARD, true, 100000, 4510250, R4510, "A1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_windows(f->s), 1);
    /* The same withdrawal again, committed exactly at the cutover: the next window. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT, MIR, SHETAB_CARD, true, 100000, 4510250, R4510, "A2");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_windows(f->s), 2);

    w = bs_settlement_window(f->s, 0);
    assert_int_equal(w->seq, 1);
    assert_int_equal(w->financial, 1);
    assert_true(w->is_closed);
    assert_true(w->by_cutover);
    assert_int_equal(w->opened, T_CUT - 10 * 60 * SEC);
    assert_int_equal(w->closed, T_CUT);
    assert_int_equal(w->business_date[MIR], 20260302);
    assert_int_equal(w->business_date[SHETAB], 20260302);
    w = bs_settlement_window(f->s, 1);
    assert_int_equal(w->seq, 2);
    assert_int_equal(w->financial, 1);
    assert_false(w->is_closed);
    assert_int_equal(w->opened, T_CUT);
    assert_int_equal(w->cutover, T_CUT + BS_SETTLE_DAY);
    assert_int_equal(w->business_date[MIR], 20260303);

    assert_int_equal(bs_settlement_close(f->s, T_CUT + 300 * SEC), 0);
    w = bs_settlement_window(f->s, 1);
    assert_true(w->is_closed);
    assert_false(w->by_cutover);
    assert_int_equal(w->closed, T_CUT + 300 * SEC);
    assert_int_equal(bs_settlement_windows(f->s), 2);
    assert_invariants(f->s);
    /* Nothing is posted after the final close. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT + 301 * SEC, MIR, SHETAB_CARD, true, 100, 4510, R4510, "A3");
    assert_int_equal(bs_settlement_record(f->s, &r), BS_ESTATE);
    assert_int_equal(bs_settlement_close(f->s, T_CUT + 400 * SEC), BS_ESTATE);
    end(f);
}

static void test_close_exactly_at_cutover_and_empty_windows(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 60 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "B1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* A day and a second after the cutover: the day in between is a window of its own,
     * empty. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT + BS_SETTLE_DAY + SEC, MIR, SHETAB_CARD, true, 100000,
            4510250, R4510, "B2");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_windows(f->s), 3);
    assert_int_equal(bs_settlement_window(f->s, 1)->financial, 0);
    assert_int_equal(bs_settlement_window(f->s, 2)->financial, 1);
    /* Ending exactly at a cutover closes by that cutover, without an empty extra window. */
    assert_int_equal(bs_settlement_close(f->s, T_CUT + 2 * BS_SETTLE_DAY), 0);
    assert_int_equal(bs_settlement_windows(f->s), 3);
    assert_true(bs_settlement_window(f->s, 2)->by_cutover);
    assert_invariants(f->s);
    end(f);
}

static void test_out_of_order_rejected(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    struct bs_settle_check c;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT + SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510, "C1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* Earlier than the open window (window 2 opened at the cutover). */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510, "C2");
    assert_int_equal(bs_settlement_record(f->s, &r), BS_ESTATE);
    /* Through the hook the failure is counted, and the window invariant reports it:
     * a committed transaction that is in no window. */
    bs_settlement_clearing(f->s, &r);
    assert_int_equal(bs_settlement_stats(f->s)->rejected, 1);
    assert_int_equal(bs_settlement_stats(f->s)->last_error, BS_ESTATE);
    assert_int_equal(bs_settlement_check(f->s, &c), BS_ESTATE);
    assert_false(c.one_window);
    assert_true(c.nets_zero);
    end(f);
}

/* ---- lines and fees --------------------------------------------------------------------- */

static void test_principal_lines_and_netting(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_pos *p;
    int64_t sum;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "D1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* In Mir the acquirer is owed 1,000.00 RUB by the bridge (issuer proxy) ... */
    p = pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->net, 100000);
    assert_int_equal(p->principal, 100000);
    assert_int_equal(p->credits, 100000);
    assert_int_equal(p->debits, 0);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->amount, 100000);
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_BRIDGE, 0)->net, -100000);
    /* ... and in Shetab Melli owes the bridge (acquirer proxy) 4,510,250 IRR. */
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0)->net, -4510250);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_BRIDGE, 0)->net, 4510250);
    /* Nobody else moved. */
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_ISSUER, 0)->net, 0);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ACQUIRER, 0)->net, 0);
    for (int side = 0; side < 2; side++) {
        sum = 0;
        for (size_t i = 0; i < bs_settlement_parties(f->s, side); i++)
            sum += bs_settlement_window(f->s, 0)->pos[side][i].net;
        assert_int_equal(sum, 0);
    }
    assert_invariants(f->s);
    end(f);
}

static int fees_setup(void **state)
{
    struct fixture *f;

    if (setup(state) != 0)
        return -1;
    f = *state;
    f->cfg.fees.atm_interchange[MIR] = 10000;     /* 100.00 RUB */
    f->cfg.fees.atm_interchange[SHETAB] = 500000; /* 500,000 IRR */
    f->cfg.fees.pos_interchange_bps = 50;         /* 0.50 % */
    f->cfg.fees.bridge[BS_CH_ATM][MIR] = 2000;
    f->cfg.fees.bridge[BS_CH_ATM][SHETAB] = 100000;
    f->cfg.fees.bridge[BS_CH_POS][MIR] = 500;
    f->cfg.fees.bridge[BS_CH_POS][SHETAB] = 20000;
    return 0;
}

static void test_atm_fees(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_pos *p;

    /* A Shetab card withdraws 1,000 RUB at a Mir ATM (billing 4,510,250 IRR). */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "E1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* Mir acquirer: +100000 principal, +10000 interchange (from the issuer, via the bridge),
     * −2000 bridge fee: net 108000. */
    p = pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->principal, 100000);
    assert_int_equal(p->interchange, 10000);
    assert_int_equal(p->bridge_fees, -2000);
    assert_int_equal(p->net, 108000);
    assert_int_equal(p->credits, 110000);
    assert_int_equal(p->debits, 2000);
    /* Melli: −4510250 principal, −500000 interchange, −100000 bridge fee = −5110250. */
    p = pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0);
    assert_int_equal(p->principal, -4510250);
    assert_int_equal(p->interchange, -500000);
    assert_int_equal(p->bridge_fees, -100000);
    assert_int_equal(p->net, -5110250);
    /* The bridge is the counterparty: −108000 RUB, +5110250 IRR. */
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_BRIDGE, 0)->net, -108000);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_BRIDGE, 0)->net, 5110250);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_BRIDGE, 0)->bridge_fees, 100000);
    assert_invariants(f->s);
    end(f);
}

static void test_pos_interchange_rounding(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_pos *p;

    /* A Mir card buys for 300 IRR at a Shetab shop; billing 300 × 100 × 100 / 451025 =
     * 6.65 → 7 kopecks (half up). Interchange at 50 bps: 300 × 50 / 10000 = 1.5 → 2 IRR
     * (exactly half way: rounds up), 7 × 50 / 10000 = 0.035 → 0 kopecks. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, SHETAB, MIR_CARD, false, 300, 7, R4510, "F1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    p = pos(f->s, 0, SHETAB, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->interchange, -2);
    assert_int_equal(p->bridge_fees, -20000);
    assert_int_equal(p->net, 300 - 2 - 20000);
    p = pos(f->s, 0, MIR, BS_SETTLE_ISSUER, 0);
    assert_int_equal(p->interchange, 0);
    assert_int_equal(p->net, -7 - 500);

    /* 299 IRR: 299 × 50 / 10000 = 1.495 → 1. Billing 299 × 10000 / 451025 = 6.63 → 7. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 90 * SEC, SHETAB, MIR_CARD, false, 299, 7, R4510, "F2");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ACQUIRER, 0)->interchange, -3);

    /* A Shetab card buys for 300,000.00 RUB at a Mir shop: billing 30000000 × 4510.25 / 100
     * = 1,353,075,000 IRR; interchange 30000000 × 50 / 10000 = 150000 kopecks on the Mir
     * side and 1353075000 × 50 / 10000 = 6,765,375 IRR on the Shetab side. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 80 * SEC, MIR, SHETAB_CARD, false, 30000000, 1353075000,
            R4510, "F3");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0)->interchange, -150000);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0)->interchange, 6765375);
    assert_invariants(f->s);
    end(f);
}

/* ---- refunds and rate changes (issue #6 items 4 and 6) ---------------------------------- */

/*
 * A refund (DE 3 20) posts a purchase's principal and interchange negated, the bridge fee as
 * for a purchase; its reversal undoes all of it. Refunds are counted apart: credits in the
 * reconciliation totals.
 */
static void test_refund_lines(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_pos *p;
    struct bs_settle_totals t;

    /* A Shetab card is refunded 1,000.00 RUB at a Mir shop: 100000 × 4510.25 / 100 =
     * 4,510,250 IRR back to the card. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, false, 100000, 4510250, R4510,
            "R1");
    snprintf(f->c[f->nc - 1].proc, sizeof(f->c[0].proc), "200000");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* Mir acquirer pays 100000, gets the 0.50 % interchange (500) back, pays the bridge's
     * POS fee 500: net −100000. */
    p = pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->principal, -100000);
    assert_int_equal(p->interchange, 500);
    assert_int_equal(p->bridge_fees, -500);
    assert_int_equal(p->net, -100000);
    assert_int_equal(p->count, 0);
    assert_int_equal(p->refund_count, 1);
    assert_int_equal(p->refund_amount, 100000);
    /* Melli receives 4510250 for its cardholder, pays back 4510250 × 50 / 10000 = 22551.25 →
     * 22551 interchange and the 20000 fee: net 4,467,699. */
    p = pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0);
    assert_int_equal(p->principal, 4510250);
    assert_int_equal(p->interchange, -22551);
    assert_int_equal(p->bridge_fees, -20000);
    assert_int_equal(p->net, 4467699);
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_BRIDGE, 0)->net, 100000);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_BRIDGE, 0)->net, -4467699);
    assert_int_equal(bs_settlement_window(f->s, 0)->fx[MIR].billing, -4510250);
    assert_invariants(f->s);
    /* The bridge's 0500 for Melli: one credit of 4510250, no debit. */
    assert_int_equal(
        bs_settlement_bridge_totals(f->s, SHETAB, pidx(f->s, SHETAB, BS_SETTLE_ISSUER, 0), &t), 0);
    assert_int_equal(t.debits, 0);
    assert_int_equal(t.credits, 1);
    assert_int_equal(t.credited, 4510250);

    /* Its reversal puts every line back. */
    r = rec(f, BS_CLR_REVERSAL, T_CUT - 90 * SEC, MIR, SHETAB_CARD, false, 100000, 4510250, R4510,
            "R1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    p = pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0);
    assert_int_equal(p->net, 0);
    assert_int_equal(p->principal, 0);
    assert_int_equal(p->refund_rev_count, 1);
    assert_int_equal(p->refund_rev_amount, 4510250);
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0)->net, 0);
    assert_int_equal(
        bs_settlement_bridge_totals(f->s, SHETAB, pidx(f->s, SHETAB, BS_SETTLE_ISSUER, 0), &t), 0);
    assert_int_equal(t.debits, 1);
    assert_int_equal(t.debited, 4510250);
    assert_invariants(f->s);
    end(f);
}

/*
 * The mid rate changes during the day: transactions keep their own DE 10 (positions agree
 * per transaction), and each window settles at the mid in force at its close.
 */
static void test_rate_change_settles_at_closing_mid(void **state)
{
    struct fixture *f = *state;
    const struct bs_fx_change ch[] = { { T_CUT - 60 * SEC, { 460000, 2 } },
                                       { T_CUT + 60 * SEC, { 445050, 2 } } };
    const struct bs_rate R4600 = { 460000, 2 }, R4450 = { 445050, 2 };
    struct bs_clearing_record r;
    const struct bs_settle_window *w;

    f->cfg.rate_follows_mid = true;
    f->cfg.mid_changes = ch;
    f->cfg.nmid_changes = 2;
    begin(state);
    /* 1,000.00 RUB withdrawals by Shetab cards at 4510.25 and, after the change, 4600. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "X1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 30 * SEC, MIR, SHETAB_CARD, true, 100000, 4600000, R4600,
            "X2");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* After the cutover and the second change: 1,000.00 RUB at 4450.50. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT + 120 * SEC, MIR, SHETAB_CARD, true, 100000, 4450500, R4450,
            "X3");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* The reversal of X1, in window 2, undoes X1's own amounts (4510250 IRR). */
    r = rec(f, BS_CLR_REVERSAL, T_CUT + 130 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "X1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_close(f->s, T_CUT + 200 * SEC), 0);
    assert_invariants(f->s);

    w = bs_settlement_window(f->s, 0);
    assert_int_equal(w->nrates, 2);
    /* Window 1: RUB −200000, IRR +9110250; settled at the mid in force at the cutover,
     * 4600: 200000 kopecks = 9,200,000 IRR, leaving the bridge −89,750 IRR. */
    assert_int_equal(w->instr.rate.num, 460000);
    assert_int_equal(w->instr.amount, 200000);
    assert_int_equal(w->instr.counter_value, 9200000);
    assert_int_equal(w->instr.residual[SHETAB], 9110250 - 9200000);
    /* Markup is measured against the mid in force at each commit: 0 for both here. */
    assert_int_equal(w->fx[MIR].markup, 0);
    /* Window 2: X3 (−100000 RUB, +4450500 IRR) and X1's reversal (+100000, −4510250):
     * both positions ≤ 0 on the IRR side, nothing crosses; the rate is the closing mid. */
    w = bs_settlement_window(f->s, 1);
    assert_int_equal(w->instr.rate.num, 445050);
    assert_false(w->instr.needed);
    assert_int_equal(w->pos[SHETAB][pidx(f->s, SHETAB, BS_SETTLE_BRIDGE, 0)].net,
                     4450500 - 4510250);
    end(f);
}

/* ---- reversals ------------------------------------------------------------------------ */

static void test_reversal_same_window(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_pos *p;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "G1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    r.kind = BS_CLR_REVERSAL;
    r.t = T_CUT - 50 * SEC;
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    p = pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->net, 0);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->rev_count, 1);
    assert_int_equal(p->rev_amount, 100000);
    assert_int_equal(p->adjustments, 0);
    assert_int_equal(p->credits, 100000);
    assert_int_equal(p->debits, 100000);
    assert_int_equal(bs_settlement_window(f->s, 0)->adjustments, 0);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_BRIDGE, 0)->net, 0);
    assert_invariants(f->s);
    end(f);
}

static void test_reversal_after_cutover_is_adjustment(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_window *w;
    const struct bs_settle_pos *p;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 30 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "H1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* The acquirer's reversal is acknowledged 40 s later, after the cutover. */
    r.kind = BS_CLR_REVERSAL;
    r.t = T_CUT + 10 * SEC;
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* Window 1 keeps the original untouched ... */
    p = pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->net, 100000);
    assert_int_equal(p->rev_count, 0);
    /* ... and window 2 carries the adjustment, linked by RRN. */
    w = bs_settlement_window(f->s, 1);
    assert_int_equal(w->reversals, 1);
    assert_int_equal(w->adjustments, 1);
    assert_int_equal(w->financial, 0);
    assert_int_equal(w->nadj, 1);
    assert_string_equal(w->adj[0].rrn, "H1");
    assert_int_equal(w->adj[0].orig_window, 1);
    assert_int_equal(w->adj[0].amount, 100000);
    assert_int_equal(w->adj[0].billing, 4510250);
    p = pos(f->s, 1, MIR, BS_SETTLE_ACQUIRER, 0);
    assert_int_equal(p->net, -100000);
    assert_int_equal(p->rev_count, 1);
    assert_int_equal(p->adjustments, 1);
    assert_int_equal(pos(f->s, 1, SHETAB, BS_SETTLE_ISSUER, 0)->net, 4510250);
    assert_int_equal(pos(f->s, 1, SHETAB, BS_SETTLE_BRIDGE, 0)->net, -4510250);
    /* The FX volume of window 2 is negative: it only holds the undoing. */
    assert_int_equal(w->fx[MIR].count, -1);
    assert_int_equal(w->fx[MIR].billing, -4510250);
    assert_int_equal(bs_settlement_close(f->s, T_CUT + 60 * SEC), 0);
    assert_invariants(f->s);
    end(f);
}

static void test_reversal_never_counted_twice(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "I1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* The same financial record twice: a duplicate, never posted twice. */
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EEXIST);
    r.kind = BS_CLR_REVERSAL;
    r.t = T_CUT - 90 * SEC;
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* A reversal of the reversed transaction (a repeat 0421, a reversal of the reversal):
     * it must not credit the cardholder's issuer a second time. */
    r.t = T_CUT - 80 * SEC;
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EEXIST);
    bs_settlement_clearing(f->s, &r);
    r.t = T_CUT + 80 * SEC; /* also not in a later window */
    bs_settlement_clearing(f->s, &r);
    assert_int_equal(bs_settlement_stats(f->s)->repeat_reversals, 2);
    assert_int_equal(bs_settlement_stats(f->s)->reversals, 1);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0)->net, 0);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, 0)->rev_count, 1);
    assert_int_equal(pos(f->s, 1, SHETAB, BS_SETTLE_ISSUER, 0)->net, 0);
    assert_int_equal(bs_settlement_window(f->s, 1)->reversals, 0);
    /* A reversal of something never posted is an orphan, also not posted. */
    r = rec(f, BS_CLR_REVERSAL, T_CUT + 90 * SEC, MIR, SHETAB_CARD, true, 5000, 225513, R4510,
            "I9");
    assert_int_equal(bs_settlement_record(f->s, &r), BS_ENOTFOUND);
    bs_settlement_clearing(f->s, &r);
    assert_int_equal(bs_settlement_stats(f->s)->orphan_reversals, 1);
    assert_int_equal(bs_settlement_stats(f->s)->rejected, 0);
    assert_invariants(f->s);
    end(f);
}

/*
 * Retention (issue #8): with cfg.retention set, a committed transaction is kept only that
 * long after its commit, for its reversal and for duplicates; the windows keep everything.
 * Phase 1 posts 1000 records 100 ms apart (about 600 kept at a time, so the oldest are
 * forgotten while the ring's first slot moves), phase 2 posts 2000 more 10 ms apart, so
 * the ring grows twice while its first slot is not slot 0.
 */
static void test_retention_forgets_old_transactions(void **state)
{
    struct fixture *f = *state;
    enum { N1 = 1000, N2 = 2000 };
    struct bs_canon *cs = calloc(N1 + N2, sizeof(*cs));
    struct bs_clearing_record r;
    bs_time_us t0 = f->cfg.start + SEC, t = t0;

    assert_non_null(cs);
    f->cfg.retention = 60 * SEC;
    assert_int_equal(bs_settlement_new(&f->cfg, &f->s), 0);
    for (int i = 0; i < N1 + N2; i++) {
        struct bs_canon *c = &cs[i];
        snprintf(c->pan, sizeof(c->pan), "%s", SHETAB_CARD);
        snprintf(c->proc, sizeof(c->proc), "001000");
        snprintf(c->acq, sizeof(c->acq), "22100000001");
        snprintf(c->stan, sizeof(c->stan), "%06d", i + 1);
        snprintf(c->dt, sizeof(c->dt), "0302205959");
        snprintf(c->rrn, sizeof(c->rrn), "R%011d", i);
        c->amount = 1000;
        t = t0 + (i < N1 ? (bs_time_us)i * 100000 : (bs_time_us)N1 * 100000 + (i - N1) * 10000);
        r = (struct bs_clearing_record){ .kind = BS_CLR_FINANCIAL,
                                         .t = t,
                                         .acq_side = MIR,
                                         .iss_side = SHETAB,
                                         .req = c,
                                         .amount = 1000,
                                         .billing = 45103,
                                         .acq_currency = RUB,
                                         .iss_currency = IRR };
        de10(R4510, r.rate);
        assert_int_equal(bs_settlement_record(f->s, &r), 0);
    }
    /* The last one is kept: a duplicate is recognised, its reversal matched once. */
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EEXIST);
    r.kind = BS_CLR_REVERSAL;
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EEXIST);
    /* The last of phase 1, committed 20 s before the end: kept. */
    r.req = &cs[N1 - 1];
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* The first, committed two minutes before: forgotten, so its reversal is an orphan. */
    r.req = &cs[0];
    assert_int_equal(bs_settlement_record(f->s, &r), BS_ENOTFOUND);
    /* Every record is in the windows all the same. */
    assert_int_equal(bs_settlement_stats(f->s)->financial, N1 + N2);
    assert_int_equal(bs_settlement_stats(f->s)->reversals, 2);
    assert_int_equal(bs_settlement_window(f->s, 0)->financial, N1 + N2);
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0)->count, N1 + N2);
    assert_int_equal(pos(f->s, 0, MIR, BS_SETTLE_ACQUIRER, 0)->rev_count, 2);
    assert_invariants(f->s);
    end(f);
    free(cs);
}

/* ---- the settlement instruction ------------------------------------------------------- */

static void test_instruction_hand_computed(void **state)
{
    struct fixture *f = begin(state);
    struct bs_settlement_cfg cfg = base_cfg();
    struct bs_settlement *s;

    struct bs_clearing_record r;
    const struct bs_settle_window *w;

    /* Settle at 4500.5 IRR per RUB, not the transaction rate. */
    cfg.rate = (struct bs_rate){ 45005, 1 };
    assert_int_equal(bs_settlement_new(&cfg, &s), 0);
    /* A Shetab card takes 10,000.00 RUB from a Mir ATM: billing 1000000 × 4510.25 / 100 =
     * 45,102,500 IRR. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 1000000, 45102500,
            R4510, "J1");
    assert_int_equal(bs_settlement_record(s, &r), 0);
    /* A Mir card buys for 4,510 IRR in Iran: billing 4510 × 10000 / 451025 = 99.994 → 100
     * kopecks. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 90 * SEC, SHETAB, MIR_CARD, false, 4510, 100, R4510, "J2");
    assert_int_equal(bs_settlement_record(s, &r), 0);
    assert_int_equal(bs_settlement_close(s, T_CUT - 10 * SEC), 0);
    w = bs_settlement_window(s, 0);
    /* Bridge: RUB 100 − 1000000 = −999,900; IRR 45102500 − 4510 = +45,097,990. */
    assert_int_equal(w->pos[MIR][pidx(s, MIR, BS_SETTLE_BRIDGE, 0)].net, -999900);
    assert_int_equal(w->pos[SHETAB][pidx(s, SHETAB, BS_SETTLE_BRIDGE, 0)].net, 45097990);
    /* The bridge is short in RUB: the Shetab side pays the Mir side 999,900 kopecks,
     * worth 999900 × 4500.5 / 100 = 45,000,499.5 → 45,000,500 IRR (exactly half way, up). */
    assert_true(w->instr.needed);
    assert_int_equal(w->instr.payer, SHETAB);
    assert_int_equal(w->instr.payee, MIR);
    assert_int_equal(w->instr.amount, 999900);
    assert_int_equal(w->instr.counter_value, 45000500);
    /* What the bridge keeps: 45097990 − 45000500 = 97,490 IRR, and nothing in RUB. */
    assert_int_equal(w->instr.residual[SHETAB], 97490);
    assert_int_equal(w->instr.residual[MIR], 0);
    /* Markup against the mid rate is 0 here (applied = mid). */
    assert_int_equal(w->fx[MIR].markup, 0);
    assert_int_equal(w->fx[SHETAB].markup, 0);
    assert_invariants(s);
    bs_settlement_free(s);
    end(f);
}

static void test_instruction_other_direction_and_none(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    const struct bs_settle_window *w;

    /* Only a Mir card buying 2,000,000 IRR in Iran: billing 2000000 × 10000 / 451025 =
     * 44,343.1 → 44,343 kopecks. Bridge: IRR −2,000,000, RUB +44,343: the Mir side pays
     * the Shetab side 2,000,000 IRR, worth 2000000 × 10000 / 451025 = 44,343 kopecks. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, SHETAB, MIR_CARD, false, 2000000, 44343, R4510,
            "K1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    /* The next window only holds its reversal: positions +2,000,000 IRR and −44,343 RUB,
     * so the Shetab side pays 44,343 kopecks worth 44343 × 4510.25 / 100 = 1,999,980.16 →
     * 1,999,980 IRR, and the bridge keeps 20 IRR. */
    r.kind = BS_CLR_REVERSAL;
    r.t = T_CUT + SEC;
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_close(f->s, T_CUT + 2 * SEC), 0);
    w = bs_settlement_window(f->s, 0);
    assert_true(w->instr.needed);
    assert_int_equal(w->instr.payer, MIR);
    assert_int_equal(w->instr.payee, SHETAB);
    assert_int_equal(w->instr.amount, 2000000);
    assert_int_equal(w->instr.counter_value, 44343);
    assert_int_equal(w->instr.residual[MIR], 0);
    assert_int_equal(w->instr.residual[SHETAB], 0);
    w = bs_settlement_window(f->s, 1);
    assert_int_equal(w->instr.payer, SHETAB);
    assert_int_equal(w->instr.amount, 44343);
    assert_int_equal(w->instr.counter_value, 1999980);
    assert_int_equal(w->instr.residual[SHETAB], 20);
    assert_invariants(f->s);
    end(f);
}

static void test_instruction_not_needed(void **state)
{
    struct fixture *f = begin(state);

    /* An empty window: both positions 0, nothing crosses the border. */
    assert_int_equal(bs_settlement_close(f->s, T_CUT - SEC), 0);
    assert_false(bs_settlement_window(f->s, 0)->instr.needed);
    assert_invariants(f->s);
    end(f);
}

/* ---- the invariants catch inconsistencies --------------------------------------------- */

static void test_rate_mismatch_breaks_positions_agree(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    struct bs_settle_check c;

    /* DE 6 one rial more than DE 4 at DE 10 (4,510,250): the issuer would be charged
     * more than the recorded rate allows. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510251, R4510,
            "L1");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_stats(f->s)->rate_mismatches, 1);
    assert_int_equal(bs_settlement_check(f->s, &c), BS_ESTATE);
    assert_false(c.positions_agree);
    assert_true(c.nets_zero);
    assert_non_null(strstr(c.positions, "shetab"));
    assert_non_null(strstr(c.positions, "RRN L1"));
    end(f);
}

static void test_bad_records(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;

    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
            "M1");
    r.acq_currency = IRR;
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EINVAL);
    r.acq_currency = RUB;
    r.amount = -1;
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EINVAL);
    r.amount = 100000;
    memcpy(r.rate, "2045102X", 9);
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EINVAL);
    de10(R4510, r.rate);
    r.iss_side = MIR;
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EINVAL);
    r.iss_side = SHETAB;
    r.req = NULL;
    assert_int_equal(bs_settlement_record(f->s, &r), BS_EINVAL);
    assert_int_equal(bs_settlement_stats(f->s)->financial, 0);
    assert_int_equal(bs_settlement_windows(f->s), 0);
    end(f);
}

static void test_unmapped_participants(void **state)
{
    struct fixture *f = begin(state);
    struct bs_clearing_record r;
    int um;

    /* An unknown acquirer id and a BIN no issuer has: posted to the catch-alls. */
    r = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, "5892100000000013", true, 100000, 4510250,
            R4510, "N1");
    snprintf(f->c[f->nc - 1].acq, sizeof(f->c[0].acq), "%s", "99999");
    assert_int_equal(bs_settlement_record(f->s, &r), 0);
    assert_int_equal(bs_settlement_stats(f->s)->unmapped_acquirers, 1);
    assert_int_equal(bs_settlement_stats(f->s)->unmapped_issuers, 1);
    um = pidx(f->s, MIR, BS_SETTLE_ACQUIRER, SIZE_MAX);
    assert_true(bs_settlement_party(f->s, MIR, (size_t)um)->unmapped);
    assert_int_equal(bs_settlement_window(f->s, 0)->pos[MIR][um].net, 100000);
    assert_int_equal(pos(f->s, 0, SHETAB, BS_SETTLE_ISSUER, SIZE_MAX)->net, -4510250);
    assert_invariants(f->s);
    end(f);
}

/* ---- reconciliation ------------------------------------------------------------------- */

/*
 * The Shetab issuer's own ledger, driven like the issuer host drives it: debit the billing
 * amount on approval, credit it on reversal. Its totals are the 0510 the scheme answers.
 */
static void test_reconcile_with_issuer_ledger(void **state)
{
    struct fixture *f = begin(state);
    struct bs_ledger *l;
    struct bs_ledger_totals lt;
    struct bs_settle_totals st;
    struct bs_clearing_record r1, r2;
    const struct bs_settle_recon *rc;
    int melli = pidx(f->s, SHETAB, BS_SETTLE_ISSUER, 0);

    assert_int_equal(bs_ledger_new(4, &l), 0);
    assert_int_equal(bs_ledger_open(l, 1, 50000000), 0);
    /* Two withdrawals: 4,510,250 and 9,020,500 IRR (200000 × 4510.25 / 100). */
    r1 = rec(f, BS_CLR_FINANCIAL, T_CUT - 100 * SEC, MIR, SHETAB_CARD, true, 100000, 4510250, R4510,
             "O1");
    r2 = rec(f, BS_CLR_FINANCIAL, T_CUT - 90 * SEC, MIR, SHETAB_CARD, true, 200000, 9020500, R4510,
             "O2");
    assert_int_equal(bs_ledger_debit(l, 1, 4510250), 0);
    assert_int_equal(bs_settlement_record(f->s, &r1), 0);
    assert_int_equal(bs_ledger_debit(l, 1, 9020500), 0);
    assert_int_equal(bs_settlement_record(f->s, &r2), 0);
    /* An approval the bridge never committed (it timed out and reversed towards the
     * issuer): debited and credited at the issuer, never in clearing. */
    assert_int_equal(bs_ledger_debit(l, 1, 777), 0);
    assert_int_equal(bs_ledger_credit(l, 1, 777), 0);
    /* The first withdrawal is reversed after the cutover. */
    assert_int_equal(bs_ledger_credit(l, 1, 4510250), 0);
    r1.kind = BS_CLR_REVERSAL;
    r1.t = T_CUT + SEC;
    assert_int_equal(bs_settlement_record(f->s, &r1), 0);
    assert_int_equal(bs_settlement_close(f->s, T_CUT + 10 * SEC), 0);

    /* The ledger itself: 50,000,000 − 9,020,500 left, conservation holds. */
    assert_int_equal(bs_ledger_check(l), 0);
    assert_int_equal(bs_ledger_balance(l, 1), 40979500);
    bs_ledger_totals(l, &lt);
    assert_int_equal(lt.debited, 4510250 + 9020500 + 777);
    assert_int_equal(lt.credited, 4510250 + 777);
    assert_int_equal(lt.position, 9020500);

    /* The bridge's 0500 totals for Melli: 2 debits (13,530,750), 1 reversal (4,510,250). */
    assert_int_equal(bs_settlement_bridge_totals(f->s, SHETAB, (size_t)melli, &st), 0);
    assert_int_equal(st.debits, 2);
    assert_int_equal(st.debited, 13530750);
    assert_int_equal(st.credits, 1);
    assert_int_equal(st.credited, 4510250);

    /* Melli's 0510 from its ledger: in balance on the nets although the gross differs. */
    st = (struct bs_settle_totals){ lt.debits, lt.credits, lt.debited, lt.credited, true };
    assert_int_equal(bs_settlement_reconcile(f->s, SHETAB, (size_t)melli, &st), 0);
    rc = bs_settlement_recon(f->s, SHETAB, (size_t)melli);
    assert_true(rc->done);
    assert_true(rc->in_balance);
    assert_int_equal(rc->diff_amount, 0);
    assert_int_equal(rc->diff_count, 0);

    /* One rial debited too much at the issuer: out of balance by exactly that. */
    st.debited += 1;
    assert_int_equal(bs_settlement_reconcile(f->s, SHETAB, (size_t)melli, &st), 0);
    rc = bs_settlement_recon(f->s, SHETAB, (size_t)melli);
    assert_false(rc->in_balance);
    assert_int_equal(rc->diff_amount, 1);
    /* A reversal the issuer never applied: out of balance by one count and its amount. */
    st = (struct bs_settle_totals){ 3, 1, 4510250 + 9020500 + 777, 777, true };
    assert_int_equal(bs_settlement_reconcile(f->s, SHETAB, (size_t)melli, &st), 0);
    rc = bs_settlement_recon(f->s, SHETAB, (size_t)melli);
    assert_false(rc->in_balance);
    assert_int_equal(rc->diff_count, 1);
    assert_int_equal(rc->diff_amount, 4510250);

    /* The Mir acquirers as a group, counts only: 2 approvals at terminals, 1 reversed. */
    st = (struct bs_settle_totals){ 2, 1, 0, 0, false };
    assert_int_equal(bs_settlement_reconcile(f->s, MIR, SIZE_MAX, &st), 0);
    assert_true(bs_settlement_recon(f->s, MIR, SIZE_MAX)->in_balance);
    st.debits = 3;
    assert_int_equal(bs_settlement_reconcile(f->s, MIR, SIZE_MAX, &st), 0);
    assert_false(bs_settlement_recon(f->s, MIR, SIZE_MAX)->in_balance);
    assert_int_equal(bs_settlement_recon(f->s, MIR, SIZE_MAX)->diff_count, 1);
    assert_invariants(f->s);
    bs_ledger_free(l);
    end(f);
}

static void test_reconcile_before_close(void **state)
{
    struct fixture *f = begin(state);
    struct bs_settle_totals st = { 0, 0, 0, 0, true };

    assert_int_equal(bs_settlement_reconcile(f->s, SHETAB, 0, &st), BS_ESTATE);
    assert_int_equal(bs_settlement_close(f->s, T_CUT), 0);
    assert_int_equal(bs_settlement_reconcile(f->s, 2, 0, &st), BS_EINVAL);
    assert_int_equal(bs_settlement_reconcile(f->s, SHETAB, 99, &st), BS_EINVAL);
    end(f);
}

/* ---- configuration -------------------------------------------------------------------- */

static void test_config_errors(void **state)
{
    struct bs_settlement_cfg c;
    struct bs_settlement *s = NULL;
    static const struct bs_settle_bin overlap[] = { { 220, 220, 3 }, { 2200, 2200, 4 } };
    static const struct bs_settle_bin dup[] = { { 2200, 2201, 4 }, { 2201, 2202, 4 } };
    static const struct bs_settle_party_cfg two_acq[] = { { "A", "1", NULL, 0 },
                                                          { "B", "1", NULL, 0 } };
    struct bs_settle_party_cfg iss = { "X", "2", dup, 2 };

    (void)state;
    c = base_cfg();
    c.side[1].numeric = RUB;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    c = base_cfg();
    c.base_currency = 840;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    c = base_cfg();
    c.rate.num = 0;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    c = base_cfg();
    c.cutover = BS_SETTLE_DAY;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    c = base_cfg();
    c.fees.pos_interchange_bps = 10001;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    c = base_cfg();
    c.fees.bridge[BS_CH_ATM][0] = -1;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    c = base_cfg();
    c.side[0].acquirers = two_acq;
    c.side[0].nacquirers = 2;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EEXIST);
    c = base_cfg();
    c.side[0].issuers = &iss;
    c.side[0].nissuers = 1;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EEXIST);
    /* Different prefix lengths may nest (longest match wins). */
    iss.bins = overlap;
    assert_int_equal(bs_settlement_new(&c, &s), 0);
    bs_settlement_free(s);
    c = base_cfg();
    c.side[0].nacquirers = BS_SETTLE_MAX_ROLE + 1;
    assert_int_equal(bs_settlement_new(&c, &s), BS_EINVAL);
    bs_settlement_free(NULL);
}

int main(void)
{
    const struct CMUnitTest windows[] = {
        cmocka_unit_test(test_next_cutover),
        cmocka_unit_test(test_business_dates),
        cmocka_unit_test_setup_teardown(test_cutover_assignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_exactly_at_cutover_and_empty_windows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_rejected, setup, teardown),
    };
    const struct CMUnitTest lines[] = {
        cmocka_unit_test_setup_teardown(test_principal_lines_and_netting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atm_fees, fees_setup, teardown),
        cmocka_unit_test_setup_teardown(test_pos_interchange_rounding, fees_setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_participants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_records, setup, teardown),
    };
    const struct CMUnitTest reversals[] = {
        cmocka_unit_test_setup_teardown(test_refund_lines, fees_setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_change_settles_at_closing_mid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reversal_same_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reversal_after_cutover_is_adjustment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reversal_never_counted_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_forgets_old_transactions, setup, teardown),
    };
    const struct CMUnitTest instruction[] = {
        cmocka_unit_test_setup_teardown(test_instruction_hand_computed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instruction_other_direction_and_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instruction_not_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_mismatch_breaks_positions_agree, setup, teardown),
    };
    const struct CMUnitTest recon[] = {
        cmocka_unit_test_setup_teardown(test_reconcile_with_issuer_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile_before_close, setup, teardown),
        cmocka_unit_test(test_config_errors),
    };
    int failed = 0;

    /* Before any object exists, as bs_set_allocator() requires. */
    bs_set_allocator(&test_allocator);
    failed += cmocka_run_group_tests_name("settlement windows", windows, NULL, NULL);
    failed += cmocka_run_group_tests_name("settlement lines and fees", lines, NULL, NULL);
    failed += cmocka_run_group_tests_name("settlement reversals", reversals, NULL, NULL);
    failed += cmocka_run_group_tests_name("settlement instruction", instruction, NULL, NULL);
    failed += cmocka_run_group_tests_name("settlement reconciliation", recon, NULL, NULL);
    bs_set_allocator(NULL);
    return failed ? 1 : 0;
}
