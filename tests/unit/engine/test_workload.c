/*
 * The workload (sim/workload/). Arrival processes (arrivals.c): arrivals counted per time bucket
 * against the integral of the rate over the bucket, for every process. Counts of a Poisson process
 * are Poisson distributed, so each bucket must lie within 5 standard deviations of its
 * expectation and the buckets together must pass a chi-square test at p ≈ 1e-6; a process
 * that ignored its profile (or drew at the wrong rate) misses by tens of deviations.
 * Merchants (merchants.c): which terminals cash withdrawals and purchases use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/rng.h"
#include "workload/arrivals.h"
#include "workload/merchants.h"

#define S(x)        ((bs_time_us)((x)*1e6))
#define EPOCH_MIDN  INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define MAX_BUCKETS 200

/* ∫ λ over [a, b) in arrivals (Simpson's rule on 2000 pieces; exact for piecewise-linear
 * profiles whose breaks fall on bucket edges, close enough for the cosine). */
static double expected(const struct bs_sc_workload *wl, bs_time_us epoch, bs_time_us a,
                       bs_time_us b)
{
    const int n = 2000;
    double h = (double)(b - a) / n, sum = 0;

    for (int i = 0; i <= n; i++) {
        /* Just inside the bucket at its ends, so a step at an edge counts on its side. */
        bs_time_us t = a + (bs_time_us)llround(h * i);
        if (i == n)
            t = b - 1;
        sum += bs_arrival_rate(wl, epoch, t) * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return sum * h / 3 / 1e6;
}

/*
 * Draw every arrival of @wl in [0, @span) from seed @seed and compare the counts of
 * @nb equal buckets with their expectations; print the table so a run shows its numbers.
 */
static void check_buckets(const char *what, const struct bs_sc_workload *wl, bs_time_us epoch,
                          bs_time_us span, size_t nb, uint64_t seed)
{
    uint64_t got[MAX_BUCKETS] = { 0 };
    double chi2 = 0, total_exp = 0;
    uint64_t total = 0;
    bs_time_us t = 0, width = span / (bs_time_us)nb;
    struct bs_rng r;

    assert_true(nb <= MAX_BUCKETS);
    bs_rng_seed(&r, seed, "test.arrivals");
    for (;;) {
        bs_time_us next = bs_arrival_next(wl, epoch, t, &r);

        assert_true(next > t || next < 0);
        if (next < 0 || next >= span)
            break;
        got[next / width]++;
        t = next;
    }
    printf("%s: bucket, arrivals, expected\n", what);
    for (size_t i = 0; i < nb; i++) {
        double e = expected(wl, epoch, (bs_time_us)i * width, (bs_time_us)(i + 1) * width);
        double d = (double)got[i] - e;

        printf("  %3zu %8llu %10.1f%s\n", i, (unsigned long long)got[i], e,
               fabs(d) > 5 * sqrt(e > 1 ? e : 1) ? "  <-- off" : "");
        assert_true(fabs(d) <= 5 * sqrt(e > 1 ? e : 1));
        if (e > 0)
            chi2 += d * d / e;
        total += got[i];
        total_exp += e;
    }
    /* χ² with nb degrees of freedom: mean nb, deviation √(2nb); 5 deviations ≈ p 1e-6. */
    printf("  total %llu expected %.1f, chi2 %.1f over %zu buckets\n", (unsigned long long)total,
           total_exp, chi2, nb);
    assert_true(chi2 <= (double)nb + 5 * sqrt(2.0 * (double)nb));
    assert_true(fabs((double)total - total_exp) <= 5 * sqrt(total_exp));
}

static struct bs_sc_workload workload(enum bs_arrival kind, double rate)
{
    struct bs_sc_workload wl;

    memset(&wl, 0, sizeof(wl));
    wl.arrivals = kind;
    wl.rate_tps = rate;
    return wl;
}

static void poisson_constant_rate(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_POISSON, 50);

    (void)state;
    assert_false(bs_arrival_varies(&wl));
    check_buckets("poisson 50 TPS, 2000 s", &wl, EPOCH_MIDN, S(2000), 100, 1);
}

static void constant_is_evenly_spaced(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_CONSTANT, 40);
    struct bs_rng r;
    bs_time_us t = 0;

    (void)state;
    bs_rng_seed(&r, 1, "unused");
    for (int i = 0; i < 1000; i++) {
        bs_time_us next = bs_arrival_next(&wl, EPOCH_MIDN, t, &r);
        assert_int_equal(next - t, 25000);
        t = next;
    }
}

static void ramp_linear(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_RAMP, 10);

    (void)state;
    wl.process.to_tps = 100;
    wl.process.at = S(60);
    wl.process.over = S(600);
    assert_true(bs_arrival_varies(&wl));
    assert_true(bs_arrival_rate(&wl, 0, S(30)) == 10);
    assert_true(fabs(bs_arrival_rate(&wl, 0, S(360)) - 55) < 1e-9);
    assert_true(bs_arrival_rate(&wl, 0, S(700)) == 100);
    check_buckets("ramp 10 -> 100 TPS from 60 s over 600 s", &wl, EPOCH_MIDN, S(720), 48, 2);

    /* Downwards too. */
    wl.rate_tps = 80;
    wl.process.to_tps = 5;
    check_buckets("ramp 80 -> 5 TPS", &wl, EPOCH_MIDN, S(720), 48, 3);
}

static void step_profile(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_STEP, 5);

    (void)state;
    wl.process.steps[0] = (struct bs_sc_rate_step){ S(100), 60 };
    wl.process.steps[1] = (struct bs_sc_rate_step){ S(200), 0 };
    wl.process.steps[2] = (struct bs_sc_rate_step){ S(300), 20 };
    wl.process.nsteps = 3;
    check_buckets("step 5, 60 at 100 s, 0 at 200 s, 20 at 300 s", &wl, EPOCH_MIDN, S(400), 40, 4);
}

static void spike_window(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_SPIKE, 10);

    (void)state;
    wl.process.spike_tps = 200;
    wl.process.at = S(120);
    wl.process.duration = S(30);
    check_buckets("spike 10 TPS, 200 TPS at 120 s for 30 s", &wl, EPOCH_MIDN, S(300), 30, 5);
}

static void diurnal_hourly(void **state)
{
    static const double hourly[24] = { 0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.6,
                                       0.8, 0.9,  1.0,  0.9,  0.8, 0.8, 0.9, 1.0,
                                       1.0, 1.0,  0.9,  0.7,  0.5, 0.4, 0.3, 0.2 };
    struct bs_sc_workload wl = workload(BS_ARRIVAL_DIURNAL, 2);

    (void)state;
    memcpy(wl.process.hourly, hourly, sizeof(hourly));
    wl.process.has_hourly = true;
    /* A multiplier holds at the half hour; in between the rate is linear. */
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN, S(10.5 * 3600)) - 2.0) < 1e-9);
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN, S(11 * 3600)) - 1.9) < 1e-9);
    /* Midnight wraps: 23:30 is 0.2, 00:30 is 0.1. */
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN, 0) - 0.3) < 1e-9);
    /* The time of day counts from the workload's start on the UTC clock: started at 06:00,
     * 4.5 h in is 10:30 (multiplier 1.0), the start itself halfway between 0.2 and 0.4. */
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN + S(6 * 3600), S(4.5 * 3600)) - 2.0) < 1e-9);
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN + S(6 * 3600), 0) - 0.6) < 1e-9);
    /* Two days, hourly buckets; the workload starts at 06:00 UTC. */
    check_buckets("diurnal hourly profile x 2 TPS, two days from 06:00Z", &wl,
                  EPOCH_MIDN + S(6 * 3600), S(2 * 86400), 48, 6);
}

static void diurnal_peak_trough(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_DIURNAL, 3);
    struct bs_rng r;
    uint64_t per_hour[24] = { 0 };
    bs_time_us t = 0;
    size_t hi = 0, lo = 0;

    (void)state;
    wl.process.peak = S(18 * 3600);
    wl.process.trough = S(4 * 3600);
    wl.process.trough_ratio = 0.1;
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN, S(18 * 3600)) - 3.0) < 1e-9);
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN, S(4 * 3600)) - 0.3) < 1e-9);
    /* Halfway up (04:00 → 18:00 is 14 h: 11:00) the rate is halfway between. */
    assert_true(fabs(bs_arrival_rate(&wl, EPOCH_MIDN, S(11 * 3600)) - 1.65) < 1e-9);
    check_buckets("diurnal peak 18:00Z, trough 04:00Z at 0.1, 3 TPS, two days", &wl, EPOCH_MIDN,
                  S(2 * 86400), 96, 7);

    /* The busiest hour of the day is the one around the peak, the quietest the trough's. */
    bs_rng_seed(&r, 8, "test.arrivals");
    while ((t = bs_arrival_next(&wl, EPOCH_MIDN, t, &r)) < S(3 * 86400))
        per_hour[(t / S(3600)) % 24]++;
    for (size_t h = 0; h < 24; h++) {
        hi = per_hour[h] > per_hour[hi] ? h : hi;
        lo = per_hour[h] < per_hour[lo] ? h : lo;
    }
    assert_true(hi == 17 || hi == 18);
    assert_true(lo == 3 || lo == 4);
}

static void rate_zero_for_ever_ends(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_STEP, 10);
    struct bs_rng r;
    bs_time_us t = 0, next;
    uint64_t n = 0;

    (void)state;
    wl.process.steps[0] = (struct bs_sc_rate_step){ S(10), 0 };
    wl.process.nsteps = 1;
    bs_rng_seed(&r, 9, "test.arrivals");
    while ((next = bs_arrival_next(&wl, EPOCH_MIDN, t, &r)) >= 0) {
        assert_true(next > t && next < S(10));
        t = next;
        n++;
    }
    assert_true(n > 50 && n < 150);

    wl = workload(BS_ARRIVAL_RAMP, 10);
    wl.process.to_tps = 0;
    wl.process.over = S(20);
    t = 0;
    n = 0;
    while ((next = bs_arrival_next(&wl, EPOCH_MIDN, t, &r)) >= 0) {
        assert_true(next > t && next < S(20));
        t = next;
        n++;
    }
    assert_true(n > 60 && n < 140); /* 100 expected */
}

/* Same seed, same arrival times; another stream, other times. */
static void deterministic(void **state)
{
    struct bs_sc_workload wl = workload(BS_ARRIVAL_SPIKE, 10);
    struct bs_rng a, b, c;
    bs_time_us ta = 0, tb = 0, tc = 0;
    int differ = 0;

    (void)state;
    wl.process.spike_tps = 100;
    wl.process.at = S(1);
    wl.process.duration = S(2);
    bs_rng_seed(&a, 42, "workload.arrivals");
    bs_rng_seed(&b, 42, "workload.arrivals");
    bs_rng_seed(&c, 43, "workload.arrivals");
    for (int i = 0; i < 1000; i++) {
        ta = bs_arrival_next(&wl, EPOCH_MIDN, ta, &a);
        tb = bs_arrival_next(&wl, EPOCH_MIDN, tb, &b);
        tc = bs_arrival_next(&wl, EPOCH_MIDN, tc, &c);
        assert_int_equal(ta, tb);
        differ += ta != tc;
    }
    assert_true(differ > 900);
}

/* Terminals by merchant group: withdrawals at the ATMs' terminals, purchases at the shops',
 * uniformly among them (a χ² over the terminals), one draw each. */
static void merchant_terminals(void **state)
{
    enum { DRAWS = 60000 };
    struct bs_sc_acquirer aq;
    struct bs_rng r, same;
    uint64_t hits[23] = { 0 };

    (void)state;
    memset(&aq, 0, sizeof(aq));
    /* 23 terminals over 10 merchants: merchants 0-2 have 3 terminals, 3-9 have 2. Merchants
     * 0-1 and 7-9 are shops, 2-6 ATMs. */
    aq.terminals = 23;
    aq.merchants = 10;
    aq.groups[0] = (struct bs_merchant_group){ 5411, 2 };
    aq.groups[1] = (struct bs_merchant_group){ 6011, 5 };
    aq.groups[2] = (struct bs_merchant_group){ 5812, 3 };
    aq.ngroups = 3;
    for (unsigned ch = 0; ch < BS_CH_COUNT; ch++) {
        double chi2 = 0, e;
        size_t allowed = 0;

        memset(hits, 0, sizeof(hits));
        bs_rng_seed(&r, 3, "test.merchants");
        bs_rng_seed(&same, 3, "test.merchants");
        for (int i = 0; i < DRAWS; i++) {
            uint32_t t = bs_workload_terminal(&aq, ch, &r);
            uint16_t mcc = bs_merchant_mcc(aq.groups, aq.ngroups, t % aq.merchants);

            assert_true(t < aq.terminals);
            assert_int_equal(mcc == 6011, ch == BS_CH_ATM);
            hits[t]++;
            bs_rng_next(&same); /* one draw per terminal */
        }
        assert_memory_equal(r.s, same.s, sizeof(r.s));
        for (size_t t = 0; t < aq.terminals; t++)
            allowed += (bs_merchant_mcc(aq.groups, aq.ngroups, (uint32_t)(t % 10)) == 6011) ==
                       (ch == BS_CH_ATM);
        /* ATMs: merchants 2-6 → terminals 2,12,22, 3,13, 4,14, 5,15, 6,16 = 11 terminals. */
        assert_int_equal(allowed, ch == BS_CH_ATM ? 11 : 12);
        e = (double)DRAWS / (double)allowed;
        for (size_t t = 0; t < aq.terminals; t++)
            if (hits[t])
                chi2 += ((double)hits[t] - e) * ((double)hits[t] - e) / e;
        printf("channel %u: %zu terminals, chi2 %.1f\n", ch, allowed, chi2);
        assert_true(chi2 < (double)allowed + 5 * sqrt(2.0 * (double)allowed));
    }

    /* Only shops: a withdrawal may use any terminal. Without groups: the old single draw. */
    aq.groups[1].mcc = 5311;
    bs_rng_seed(&r, 4, "test.merchants");
    memset(hits, 0, sizeof(hits));
    for (int i = 0; i < 2300; i++)
        hits[bs_workload_terminal(&aq, BS_CH_ATM, &r)]++;
    for (size_t t = 0; t < aq.terminals; t++)
        assert_true(hits[t] > 40);
    aq.ngroups = 0;
    bs_rng_seed(&r, 5, "test.merchants");
    bs_rng_seed(&same, 5, "test.merchants");
    for (int i = 0; i < 100; i++)
        assert_int_equal(bs_workload_terminal(&aq, BS_CH_ATM, &r), bs_rng_below(&same, 23));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(poisson_constant_rate), cmocka_unit_test(constant_is_evenly_spaced),
        cmocka_unit_test(ramp_linear),           cmocka_unit_test(step_profile),
        cmocka_unit_test(spike_window),          cmocka_unit_test(diurnal_hourly),
        cmocka_unit_test(diurnal_peak_trough),   cmocka_unit_test(rate_zero_for_ever_ends),
        cmocka_unit_test(deterministic),         cmocka_unit_test(merchant_terminals),
    };

    return cmocka_run_group_tests_name("workload", tests, NULL, NULL);
}
