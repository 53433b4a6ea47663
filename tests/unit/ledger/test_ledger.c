/*
 * Unit tests for src/ledger/: exchange rates and conversion (fx.c, bridgesim/money.h) and
 * the cardholder ledger (ledger.c).
 *
 * Issue #4 item 10: a table of exact expected amounts for conversions between RUB
 * (exponent 2) and IRR (exponent 0 and 2) at the rate "4510.25" IRR per RUB with a 50 bps
 * markup applied to the rate (rounded to DE 10's 7 significant digits), rounding half up
 * at the target minor unit, up to the largest amounts that fit. Every expected value below
 * was computed independently with Python's fractions.Fraction (exact rationals), never
 * with the code under test; each row's comment shows the arithmetic.
 *
 * The library allocator is routed through cmocka's test_malloc() so leaks fail the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <bridgesim/money.h>

__extension__ typedef __int128 i128;

/* ---- allocator: leak checks plus failure injection ----------------------------------- */

static int fail_after = -1;

static bool should_fail(void)
{
    if (fail_after < 0)
        return false;
    if (fail_after-- == 0) {
        fail_after = -1;
        return true;
    }
    return false;
}

static void *t_malloc(size_t n)
{
    return should_fail() ? NULL : test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    return should_fail() ? NULL : test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

static const struct bs_allocator test_allocator = { t_malloc, t_calloc, t_realloc, t_free };

/* ---- rates ------------------------------------------------------------------------------ */

/* The scenario's mid rate, IRR per RUB, and the applied rates the bridge derives from it. */
static const struct bs_rate MID = { 451025, 2 }; /* "4510.25" */
/*
 * Up (RUB → IRR, more IRR per RUB): 4510.25 × 10050 / 10000 = 4532.80125 exactly; 7
 * significant digits, half up: 4532.801 (next digit 2).
 */
static const struct bs_rate UP = { 4532801, 3 };
/*
 * Down (IRR → RUB, fewer IRR per RUB): 4510.25 × 10000 / 10050 = 4487.810945273631840...;
 * 7 significant digits, half up: 4487.811 (next digit 9).
 */
static const struct bs_rate DOWN = { 4487811, 3 };

static void rate_parse_good(void **state)
{
    static const struct {
        const char *s;
        int64_t num;
        unsigned scale;
    } good[] = {
        { "4510.25", 451025, 2 },
        { "1", 1, 0 },
        { "0.5", 5, 1 },
        { "0004510.25", 451025, 2 }, /* leading zeros are not significant */
        { "4510.250", 4510250, 3 },  /* kept exactly as written */
        { "999999999999999999", INT64_C(999999999999999999), 0 }, /* 18 significant digits */
        { "0.000000000001", 1, 12 },                              /* 12 decimals */
        { "123456.789012345678", INT64_C(123456789012345678), 12 },
        { "0.000000000010", 10, 12 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct bs_rate r = { -1, 99 };
        assert_int_equal(bs_rate_parse(good[i].s, &r), 0);
        assert_int_equal(r.num, good[i].num);
        assert_int_equal(r.scale, good[i].scale);
    }
}

static void rate_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",
        ".",
        "1.",
        "-1",
        "+1",
        "1e3",
        "1,5",
        " 1",
        "1 ",
        "1.2.3",
        "0",
        "0.0",
        "000",
        "abc",
        "4510,25",
        "0x10",
        "1234567890123456789", /* 19 significant digits */
        "0.0000000000001",     /* 13 decimals */
        "99999999999999999999",
        "4510.25\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bs_rate r = { 77, 7 };
        if (bs_rate_parse(bad[i], &r) != BS_EFORMAT)
            fail_msg("\"%s\" was accepted", bad[i]);
        /* ret_* is written only on success. */
        assert_int_equal(r.num, 77);
        assert_int_equal(r.scale, 7);
    }
    assert_int_equal(bs_rate_parse(NULL, &(struct bs_rate){ 0, 0 }), BS_EFORMAT);
}

static void rate_de10_round_trip(void **state)
{
    static const struct {
        struct bs_rate r;
        const char *de10;
    } cases[] = {
        { { 4532801, 3 }, "34532801" }, { { 4487811, 3 }, "34487811" },
        { { 451025, 2 }, "20451025" },  { { 1, 0 }, "00000001" },
        { { 9999999, 0 }, "09999999" }, { { 9999999, 7 }, "79999999" },
        { { 1, 7 }, "70000001" },       { { 1234567, 6 }, "61234567" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[9];
        struct bs_rate back = { 0, 0 };

        memset(out, 'x', sizeof(out));
        assert_int_equal(bs_rate_de10(cases[i].r, out), 0);
        assert_string_equal(out, cases[i].de10);
        assert_int_equal(bs_rate_from_de10(out, 8, &back), 0);
        assert_int_equal(back.num, cases[i].r.num);
        assert_int_equal(back.scale, cases[i].r.scale);
    }
}

static void rate_de10_errors(void **state)
{
    char out[9] = "untouch";
    struct bs_rate r = { 5, 5 };

    (void)state;
    assert_int_equal(bs_rate_de10((struct bs_rate){ 10000000, 0 }, out), BS_ERANGE);
    assert_int_equal(bs_rate_de10((struct bs_rate){ 1, 8 }, out), BS_ERANGE);
    assert_int_equal(bs_rate_de10((struct bs_rate){ 0, 0 }, out), BS_ERANGE);
    assert_int_equal(bs_rate_de10((struct bs_rate){ -1, 0 }, out), BS_ERANGE);
    assert_string_equal(out, "untouch");

    assert_int_equal(bs_rate_from_de10("3453280", 7, &r), BS_EFORMAT);
    assert_int_equal(bs_rate_from_de10("345328011", 9, &r), BS_EFORMAT);
    assert_int_equal(bs_rate_from_de10("3453280a", 8, &r), BS_EFORMAT);
    assert_int_equal(bs_rate_from_de10("-3453280", 8, &r), BS_EFORMAT);
    assert_int_equal(bs_rate_from_de10(" 3453280", 8, &r), BS_EFORMAT);
    assert_int_equal(bs_rate_from_de10("00000000", 8, &r), BS_EFORMAT); /* a zero rate */
    assert_int_equal(bs_rate_from_de10("30000000", 8, &r), BS_EFORMAT);
    assert_int_equal(r.num, 5);
    assert_int_equal(r.scale, 5);
    /* Only the first 8 bytes count: a longer buffer with n = 8 is fine. */
    assert_int_equal(bs_rate_from_de10("34532801xyz", 8, &r), 0);
    assert_int_equal(r.num, 4532801);
    assert_int_equal(r.scale, 3);
}

static void rate_markup_scenario(void **state)
{
    struct bs_rate up, down;
    char de10[9];

    (void)state;
    assert_int_equal(bs_rate_markup(MID, 50, true, &up), 0);
    assert_int_equal(up.num, UP.num);
    assert_int_equal(up.scale, UP.scale);
    assert_int_equal(bs_rate_markup(MID, 50, false, &down), 0);
    assert_int_equal(down.num, DOWN.num);
    assert_int_equal(down.scale, DOWN.scale);
    /* Both are exactly representable in DE 10. */
    assert_int_equal(bs_rate_de10(up, de10), 0);
    assert_string_equal(de10, "34532801");
    assert_int_equal(bs_rate_de10(down, de10), 0);
    assert_string_equal(de10, "34487811");
}

static void rate_markup_more(void **state)
{
    static const struct {
        struct bs_rate mid;
        uint32_t bps;
        bool up;
        int rc;
        struct bs_rate want;
    } cases[] = {
        /* 0 bps leaves a 7-digit rate as it is, either way. */
        { { 451025, 2 }, 0, true, 0, { 451025, 2 } },
        { { 451025, 2 }, 0, false, 0, { 451025, 2 } },
        /* 4000 × 1.005 = 4020 exactly: trailing zeros are dropped (canonical form). */
        { { 4000, 0 }, 50, true, 0, { 4020, 0 } },
        /* 4000 / 1.005 = 3980.0995024875...: 3980.100 → 3980.1. */
        { { 4000, 0 }, 50, false, 0, { 39801, 1 } },
        /* 1.2345675 (8 significant digits) × 1: exactly half → 1.234568. */
        { { 12345675, 7 }, 0, true, 0, { 1234568, 6 } },
        /* 9.99999996 × 1 rounds up to 10.00000 → canonical 10. */
        { { 999999996, 8 }, 0, true, 0, { 10, 0 } },
        /* 9999999.5 needs 8 digits after rounding: not expressible in DE 10. */
        { { 99999995, 1 }, 0, true, BS_ERANGE, { 0, 0 } },
        { { 12345678, 0 }, 0, true, BS_ERANGE, { 0, 0 } },
        /* At most 7 decimals: 0.00000005 → 0.0000001; 0.00000004 → 0, a zero rate. */
        { { 5, 8 }, 0, true, 0, { 1, 7 } },
        { { 4, 8 }, 0, true, BS_ERANGE, { 0, 0 } },
        /* 0.0123456789 has 9 significant digits below the point; 7 decimals: 0.0123457. */
        { { 123456789, 10 }, 0, true, 0, { 123457, 7 } },
        /* 100 % markup: 4510.25 × 2 = 9020.5; the other way 2255.125 → 2255.125. */
        { { 451025, 2 }, 10000, true, 0, { 90205, 1 } },
        { { 451025, 2 }, 10000, false, 0, { 2255125, 3 } },
        /* Bad arguments. */
        { { 0, 0 }, 50, true, BS_EINVAL, { 0, 0 } },
        { { -451025, 2 }, 50, true, BS_EINVAL, { 0, 0 } },
        { { 1, 19 }, 50, true, BS_EINVAL, { 0, 0 } },
        { { 451025, 2 }, 100001, true, BS_EINVAL, { 0, 0 } },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bs_rate got = { -7, 77 };
        int rc = bs_rate_markup(cases[i].mid, cases[i].bps, cases[i].up, &got);

        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
        if (rc == 0 && (got.num != cases[i].want.num || got.scale != cases[i].want.scale))
            fail_msg("case %zu: %lld/10^%u, want %lld/10^%u", i, (long long)got.num, got.scale,
                     (long long)cases[i].want.num, cases[i].want.scale);
        if (rc != 0 && (got.num != -7 || got.scale != 77))
            fail_msg("case %zu: output written on failure", i);
    }
}

static int ndigits(i128 v)
{
    int n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static i128 p10(int e)
{
    i128 v = 1;

    while (e-- > 0)
        v *= 10;
    return v;
}

/*
 * Reference for bs_rate_markup(): the exact rational value num / den rounded ONCE, half
 * up, to 7 significant digits (at most 7 decimals), then trailing zeros dropped.
 */
static int ref_round7(i128 num, i128 den, struct bs_rate *ret)
{
    i128 ip = num / den, q;
    int d = ip > 0 ? 7 - ndigits(ip) : 7;

    if (d < 0)
        return BS_ERANGE;
    q = (2 * num * p10(d) + den) / (2 * den);
    if (q >= 10000000) {
        if (d == 0)
            return BS_ERANGE;
        d--;
        q = (2 * num * p10(d) + den) / (2 * den);
    }
    if (q == 0)
        return BS_ERANGE;
    while (d > 0 && q % 10 == 0) {
        q /= 10;
        d--;
    }
    ret->num = (int64_t)q;
    ret->scale = (uint8_t)d;
    return 0;
}

/*
 * Regression (found by this test, fixed in fbdd662): round_de10() in src/ledger/fx.c used
 * to round half up one decimal digit at a time, i.e. several times (double rounding)
 * instead of once to 7 significant digits as bs_rate_markup()'s contract says. Example:
 * mid "4510.2502", 50 bps, up: 4510.2502 × 1.005 = 4532.801451 exactly → 4532.801, but
 * the loop went 4532.80145 → 4532.8015 → 4532.802. Down, mid "4510.2596": exact
 * 4487.82049751... → 4487.820 (canonical 4487.82), the code gave 4487.821. 275 of the 5000
 * swept rates below were one unit of the 7th digit too high.
 */
static void rate_markup_rounds_once(void **state)
{
    static const struct {
        struct bs_rate mid;
        uint32_t bps;
        bool up;
        struct bs_rate want;
        const char *why;
    } cases[] = {
        { { 123456745, 8 }, 0, true, { 1234567, 6 }, "1.23456745: next digits 45 < 50" },
        { { INT64_C(12345674999), 10 }, 0, true, { 1234567, 6 }, "1.2345674999: next 4999" },
        { { 45102502, 4 }, 50, true, { 4532801, 3 }, "4510.2502 x 1.005 = 4532.801451" },
        { { 45102596, 4 }, 50, false, { 448782, 2 }, "4510.2596 / 1.005 = 4487.8204975..." },
    };
    struct bs_rate got;
    unsigned bad = 0, mismatches = 0;
    char first[160] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(bs_rate_markup(cases[i].mid, cases[i].bps, cases[i].up, &got), 0);
        if (got.num != cases[i].want.num || got.scale != cases[i].want.scale) {
            print_error("%s: got %lld/10^%u, want %lld/10^%u (double rounding)\n", cases[i].why,
                        (long long)got.num, got.scale, (long long)cases[i].want.num,
                        cases[i].want.scale);
            bad++;
        }
    }

    /* Sweep 4510.2500 .. 4510.4999 both ways against the single-rounding reference. */
    for (int64_t m = 45102500; m < 45105000; m++)
        for (int up = 0; up < 2; up++) {
            struct bs_rate want = { 0, 0 };
            i128 num = up ? (i128)m * 10050 : (i128)m * 10000;
            i128 den = up ? p10(4 + 4) : (i128)10050 * p10(4);
            int rw = ref_round7(num, den, &want);
            int rg = bs_rate_markup((struct bs_rate){ m, 4 }, 50, up, &got);

            assert_int_equal(rw, 0);
            if (rg != 0 || got.num != want.num || got.scale != want.scale) {
                if (!mismatches++)
                    snprintf(first, sizeof(first),
                             "mid %lld/10^4 %s: got %lld/10^%u, want %lld/10^%u", (long long)m,
                             up ? "up" : "down", (long long)got.num, got.scale, (long long)want.num,
                             want.scale);
            }
        }
    if (mismatches)
        print_error("%u of 5000 applied rates differ from single rounding; first: %s\n", mismatches,
                    first);
    if (bad || mismatches)
        fail_msg("bs_rate_markup() rounds more than once (src/ledger/fx.c round_de10())");
}

/* The markup always works against the cardholder: up > mid > down. */
static void rate_markup_direction(void **state)
{
    (void)state;
    for (int64_t m = 100000; m < 100000000; m = m * 3 + 7) {
        struct bs_rate up, down;
        assert_int_equal(bs_rate_markup((struct bs_rate){ m, 3 }, 50, true, &up), 0);
        assert_int_equal(bs_rate_markup((struct bs_rate){ m, 3 }, 50, false, &down), 0);
        /* Compare up.num/10^up.scale > m/10^3 > down.num/10^down.scale exactly. */
        assert_true((i128)up.num * p10(3) > (i128)m * p10(up.scale));
        assert_true((i128)down.num * p10(3) < (i128)m * p10(down.scale));
    }
}

/* ---- conversion table (issue #4 item 10) --------------------------------------------- */

struct fx_case {
    int64_t amount;
    uint8_t from_exp, to_exp;
    struct bs_rate rate;
    bool base_to_quote;
    int rc;
    int64_t want;
};

/*
 * RUB (exponent 2) is the base, IRR (exponent 0 or 2) the quote. RUB → IRR multiplies by
 * the applied up rate 4532.801; IRR → RUB divides by the applied down rate 4487.811.
 * "x → y" below is the exact rational result and its half-up (away from zero) rounding.
 * The last rows use the rate 4532.8 (= 45328 / 10), which gives exact halves IRR → RUB
 * (4487.811 has an odd numerator, so IRR → RUB at it never lands on .5 exactly).
 * n12 boundaries: DE 4/6 carry at most 999999999999.
 */
static const struct fx_case fx_table[] = {
    /* ---- RUB kopecks → IRR rials (exponent 0): × 4532.801 / 100 ---- */
    /* 1 / 10^2 x 4532.801 x 10^0 = 45.32801 -> 45 */
    { INT64_C(1), 2, 0, { 4532801, 3 }, true, 0, INT64_C(45) },
    /* 49 / 10^2 x 4532.801 x 10^0 = 2221.07249 -> 2221 */
    { INT64_C(49), 2, 0, { 4532801, 3 }, true, 0, INT64_C(2221) },
    /* 100 / 10^2 x 4532.801 x 10^0 = 4532.801 -> 4533 */
    { INT64_C(100), 2, 0, { 4532801, 3 }, true, 0, INT64_C(4533) },
    /* half-way: 50000 / 10^2 x 4532.801 x 10^0 = 2266400.5 -> 2266401 */
    { INT64_C(50000), 2, 0, { 4532801, 3 }, true, 0, INT64_C(2266401) },
    /* half-way: 150000 / 10^2 x 4532.801 x 10^0 = 6799201.5 -> 6799202 */
    { INT64_C(150000), 2, 0, { 4532801, 3 }, true, 0, INT64_C(6799202) },
    /* half-way, negative (away from zero): -50000 / 10^2 x 4532.801 = -2266400.5 -> -2266401 */
    { INT64_C(-50000), 2, 0, { 4532801, 3 }, true, 0, INT64_C(-2266401) },
    /* 12345678 / 10^2 x 4532.801 x 10^0 = 559605015.84078 -> 559605016 */
    { INT64_C(12345678), 2, 0, { 4532801, 3 }, true, 0, INT64_C(559605016) },
    /* largest n12 source: 999999999999 / 10^2 x 4532.801 = 45328009999954.67199 -> 45328009999955
     */
    { INT64_C(999999999999), 2, 0, { 4532801, 3 }, true, 0, INT64_C(45328009999955) },
    /* largest RUB whose IRR fits n12: 22061414123 / 10^2 x 4532.801 = 999999999981.48523 ->
     * 999999999981 */
    { INT64_C(22061414123), 2, 0, { 4532801, 3 }, true, 0, INT64_C(999999999981) },
    /* one kopeck more: 22061414124 / 10^2 x 4532.801 = 1000000000026.81324 -> 1000000000027
     * (13 digits: converts, but no longer fits DE 6) */
    { INT64_C(22061414124), 2, 0, { 4532801, 3 }, true, 0, INT64_C(1000000000027) },
    /* largest that fits int64: 203480630119318624 / 10^2 x 4532.801 =
     * 9223372036854775781.85824 -> 9223372036854775782 (INT64_MAX - 25) */
    { INT64_C(203480630119318624), 2, 0, { 4532801, 3 }, true, 0, INT64_C(9223372036854775782) },
    /* 203480630119318625 / 10^2 x 4532.801 = 9223372036854775827.18625 -> > INT64_MAX */
    { INT64_C(203480630119318625), 2, 0, { 4532801, 3 }, true, BS_EOVERFLOW, 0 },
    /* 9223372036854775807 / 10^2 x 4532.801 = 418077099920273646327.45407 -> > INT64_MAX */
    { INT64_MAX, 2, 0, { 4532801, 3 }, true, BS_EOVERFLOW, 0 },
    /* 0 -> 0 */
    { INT64_C(0), 2, 0, { 4532801, 3 }, true, 0, INT64_C(0) },

    /* ---- RUB kopecks → IRR (exponent 2): × 4532.801 ---- */
    /* 1 / 10^2 x 4532.801 x 10^2 = 4532.801 -> 4533 */
    { INT64_C(1), 2, 2, { 4532801, 3 }, true, 0, INT64_C(4533) },
    /* 50 / 10^2 x 4532.801 x 10^2 = 226640.05 -> 226640 */
    { INT64_C(50), 2, 2, { 4532801, 3 }, true, 0, INT64_C(226640) },
    /* half-way: 500 / 10^2 x 4532.801 x 10^2 = 2266400.5 -> 2266401 */
    { INT64_C(500), 2, 2, { 4532801, 3 }, true, 0, INT64_C(2266401) },
    /* half-way: 1500 / 10^2 x 4532.801 x 10^2 = 6799201.5 -> 6799202 */
    { INT64_C(1500), 2, 2, { 4532801, 3 }, true, 0, INT64_C(6799202) },
    /* half-way, negative: -500 / 10^2 x 4532.801 x 10^2 = -2266400.5 -> -2266401 */
    { INT64_C(-500), 2, 2, { 4532801, 3 }, true, 0, INT64_C(-2266401) },
    /* largest RUB whose IRR (exp 2) fits n12: 220614141 / 10^2 x 4532.801 x 10^2 =
     * 999999998938.941 -> 999999998939 */
    { INT64_C(220614141), 2, 2, { 4532801, 3 }, true, 0, INT64_C(999999998939) },
    /* 220614142 / 10^2 x 4532.801 x 10^2 = 1000000003471.742 -> 1000000003472 */
    { INT64_C(220614142), 2, 2, { 4532801, 3 }, true, 0, INT64_C(1000000003472) },
    /* largest that fits int64: 2034806301193186 / 10^2 x 4532.801 x 10^2 =
     * 9223372036854774693.986 -> 9223372036854774694 */
    { INT64_C(2034806301193186), 2, 2, { 4532801, 3 }, true, 0, INT64_C(9223372036854774694) },
    /* 2034806301193187 / 10^2 x 4532.801 x 10^2 = 9223372036854779226.787 -> > INT64_MAX */
    { INT64_C(2034806301193187), 2, 2, { 4532801, 3 }, true, BS_EOVERFLOW, 0 },

    /* ---- IRR rials (exponent 0) → RUB kopecks: × 100 / 4487.811 ---- */
    /* 22 / 10^0 / 4487.811 x 10^2 = 0.490216722584... -> 0 */
    { INT64_C(22), 0, 2, { 4487811, 3 }, false, 0, INT64_C(0) },
    /* 23 / 10^0 / 4487.811 x 10^2 = 0.512499300884... -> 1 */
    { INT64_C(23), 0, 2, { 4487811, 3 }, false, 0, INT64_C(1) },
    /* 1000000 / 10^0 / 4487.811 x 10^2 = 22282.578299308950... -> 22283 */
    { INT64_C(1000000), 0, 2, { 4487811, 3 }, false, 0, INT64_C(22283) },
    /* largest n12 source: 999999999999 / 4487.811 x 10^2 = 22282578299.286667820904... ->
     * 22282578299 */
    { INT64_C(999999999999), 0, 2, { 4487811, 3 }, false, 0, INT64_C(22282578299) },
    /* largest IRR whose RUB fits n12: 44878109999977 / 4487.811 x 10^2 =
     * 999999999999.487500699115... -> 999999999999 */
    { INT64_C(44878109999977), 0, 2, { 4487811, 3 }, false, 0, INT64_C(999999999999) },
    /* 44878109999978 / 4487.811 x 10^2 = 999999999999.509783277415... -> 1000000000000 */
    { INT64_C(44878109999978), 0, 2, { 4487811, 3 }, false, 0, INT64_C(1000000000000) },
    /* needs 128 bits (INT64_MAX x 10^5 overflows int64):
     * 9223372036854775807 / 4487.811 x 10^2 = 205520509594873220.084357384925... ->
     * 205520509594873220 */
    { INT64_MAX, 0, 2, { 4487811, 3 }, false, 0, INT64_C(205520509594873220) },
    /* -9223372036854775808 / 4487.811 x 10^2 = -205520509594873220.106639963224... ->
     * -205520509594873220 */
    { INT64_MIN, 0, 2, { 4487811, 3 }, false, 0, INT64_C(-205520509594873220) },

    /* ---- IRR (exponent 2) → RUB kopecks: / 4487.811 ---- */
    /* 1000000 / 10^2 / 4487.811 x 10^2 = 222.825782993089... -> 223 */
    { INT64_C(1000000), 2, 2, { 4487811, 3 }, false, 0, INT64_C(223) },
    /* 4487810999997756 / 10^2 / 4487.811 x 10^2 = 999999999999.499978942963... -> 999999999999 */
    { INT64_C(4487810999997756), 2, 2, { 4487811, 3 }, false, 0, INT64_C(999999999999) },
    /* 4487810999997757 / 10^2 / 4487.811 x 10^2 = 999999999999.500201768746... -> 10^12 */
    { INT64_C(4487810999997757), 2, 2, { 4487811, 3 }, false, 0, INT64_C(1000000000000) },

    /* ---- exact halves IRR → RUB at the rate 4532.8 ---- */
    /* half-way: 2833 / 10^0 / 4532.8 x 10^2 = 62.5 -> 63 */
    { INT64_C(2833), 0, 2, { 45328, 1 }, false, 0, INT64_C(63) },
    /* half-way, negative: -2833 / 10^0 / 4532.8 x 10^2 = -62.5 -> -63 */
    { INT64_C(-2833), 0, 2, { 45328, 1 }, false, 0, INT64_C(-63) },
    /* half-way: 8499 / 10^0 / 4532.8 x 10^2 = 187.5 -> 188 */
    { INT64_C(8499), 0, 2, { 45328, 1 }, false, 0, INT64_C(188) },
    /* 2833 / 10^2 / 4532.8 x 10^2 = 0.625 -> 1 */
    { INT64_C(2833), 2, 2, { 45328, 1 }, false, 0, INT64_C(1) },
};

static void fx_convert_table(void **state)
{
    (void)state;
    assert_true(sizeof(fx_table) / sizeof(fx_table[0]) >= 20);
    for (size_t i = 0; i < sizeof(fx_table) / sizeof(fx_table[0]); i++) {
        const struct fx_case *c = &fx_table[i];
        int64_t got = INT64_C(0x5a5a5a5a5a5a5a5a);
        int rc = bs_fx_convert(c->amount, c->from_exp, c->to_exp, c->rate, c->base_to_quote, &got);

        if (rc != c->rc)
            fail_msg("row %zu (%lld): rc %d, want %d", i, (long long)c->amount, rc, c->rc);
        if (rc == 0 && got != c->want)
            fail_msg("row %zu (%lld): got %lld, want %lld", i, (long long)c->amount, (long long)got,
                     (long long)c->want);
        if (rc != 0 && got != INT64_C(0x5a5a5a5a5a5a5a5a))
            fail_msg("row %zu: output written on failure", i);
    }
}

/* The table's rates are the ones bs_rate_markup() derives from the scenario's mid. */
static void fx_table_rates_are_applied_rates(void **state)
{
    struct bs_rate up, down;

    (void)state;
    assert_int_equal(bs_rate_markup(MID, 50, true, &up), 0);
    assert_int_equal(bs_rate_markup(MID, 50, false, &down), 0);
    for (size_t i = 0; i < sizeof(fx_table) / sizeof(fx_table[0]); i++) {
        const struct fx_case *c = &fx_table[i];
        if (c->rate.num == 45328)
            continue;
        const struct bs_rate *want = c->base_to_quote ? &up : &down;
        assert_int_equal(c->rate.num, want->num);
        assert_int_equal(c->rate.scale, want->scale);
    }
}

/* Converting with the unmarked mid and identity rates; bad arguments. */
static void fx_convert_misc(void **state)
{
    int64_t got = 42;

    (void)state;
    /* Identity rate 1, exponent change only: 12345 kopecks = 123.45 → 123 units (half up). */
    assert_int_equal(bs_fx_convert(12345, 2, 0, (struct bs_rate){ 1, 0 }, true, &got), 0);
    assert_int_equal(got, 123);
    assert_int_equal(bs_fx_convert(12350, 2, 0, (struct bs_rate){ 1, 0 }, true, &got), 0);
    assert_int_equal(got, 124);
    assert_int_equal(bs_fx_convert(-12350, 2, 0, (struct bs_rate){ 1, 0 }, false, &got), 0);
    assert_int_equal(got, -124);
    assert_int_equal(bs_fx_convert(7, 0, 2, (struct bs_rate){ 1, 0 }, true, &got), 0);
    assert_int_equal(got, 700);
    /* Mid rate, RUB → IRR: 100000 kop = 1000 RUB × 4510.25 = 4510250 IRR exactly. */
    assert_int_equal(bs_fx_convert(100000, 2, 0, MID, true, &got), 0);
    assert_int_equal(got, 4510250);
    /* Mid rate, IRR → RUB: 4510250 IRR / 4510.25 = 1000 RUB = 100000 kop exactly. */
    assert_int_equal(bs_fx_convert(4510250, 0, 2, MID, false, &got), 0);
    assert_int_equal(got, 100000);
    /* Bad arguments leave the output alone. */
    got = 42;
    assert_int_equal(bs_fx_convert(1, 2, 0, (struct bs_rate){ 0, 0 }, true, &got), BS_EINVAL);
    assert_int_equal(bs_fx_convert(1, 2, 0, (struct bs_rate){ -5, 0 }, true, &got), BS_EINVAL);
    assert_int_equal(bs_fx_convert(1, 2, 0, (struct bs_rate){ 5, 19 }, true, &got), BS_EINVAL);
    assert_int_equal(bs_fx_convert(1, 19, 0, UP, true, &got), BS_EINVAL);
    assert_int_equal(bs_fx_convert(1, 2, 19, UP, true, &got), BS_EINVAL);
    assert_int_equal(got, 42);
    /* An intermediate beyond 128 bits is an overflow, not a wrong number. */
    assert_int_equal(bs_fx_convert(INT64_MAX, 0, 18,
                                   (struct bs_rate){ INT64_C(999999999999999999), 0 }, true, &got),
                     BS_EOVERFLOW);
    assert_int_equal(got, 42);
}

static void amount_fits(void **state)
{
    (void)state;
    assert_true(bs_amount_fits(0, 12));
    assert_true(bs_amount_fits(1, 12));
    assert_true(bs_amount_fits(INT64_C(999999999999), 12));
    assert_false(bs_amount_fits(INT64_C(1000000000000), 12));
    assert_false(bs_amount_fits(-1, 12));
    assert_false(bs_amount_fits(INT64_MIN, 12));
    assert_true(bs_amount_fits(9, 1));
    assert_false(bs_amount_fits(10, 1));
    assert_false(bs_amount_fits(0, 0));
    assert_true(bs_amount_fits(INT64_C(999999999999999999), 18));
    assert_false(bs_amount_fits(INT64_C(1000000000000000000), 18));
    assert_true(bs_amount_fits(INT64_MAX, 19));
    assert_true(bs_amount_fits(INT64_MAX, 40));
    /* The table's boundary rows against n12. */
    assert_true(bs_amount_fits(INT64_C(999999999981), 12));
    assert_false(bs_amount_fits(INT64_C(1000000000027), 12));
}

/* ---- ledger ------------------------------------------------------------------------------ */

static void check_totals(const struct bs_ledger *l, int64_t opening, int64_t balances,
                         int64_t debited, int64_t credited, uint64_t debits, uint64_t credits)
{
    struct bs_ledger_totals t;

    memset(&t, 0xee, sizeof(t));
    bs_ledger_totals(l, &t);
    assert_int_equal(t.opening, opening);
    assert_int_equal(t.balances, balances);
    assert_int_equal(t.debited, debited);
    assert_int_equal(t.credited, credited);
    assert_int_equal(t.position, debited - credited);
    assert_int_equal(t.debits, debits);
    assert_int_equal(t.credits, credits);
    assert_int_equal(t.balances + t.position, t.opening);
    assert_int_equal(bs_ledger_check(l), 0);
}

static void ledger_new_limits(void **state)
{
    struct bs_ledger *l = NULL;

    (void)state;
    assert_int_equal(bs_ledger_new(0, &l), 0);
    check_totals(l, 0, 0, 0, 0, 0, 0);
    assert_int_equal(bs_ledger_open(l, 0, 1), BS_EINVAL);
    assert_int_equal(bs_ledger_debit(l, 0, 1), BS_EINVAL);
    bs_ledger_free(l);
    l = NULL;
    assert_int_equal(bs_ledger_new(100000001, &l), BS_ELIMIT);
    assert_null(l);
    fail_after = 0;
    assert_int_equal(bs_ledger_new(10, &l), BS_ENOMEM);
    fail_after = 1; /* the struct, then not the balances: no leak either way */
    assert_int_equal(bs_ledger_new(10, &l), BS_ENOMEM);
    assert_null(l);
    bs_ledger_free(NULL);
}

static void ledger_open(void **state)
{
    struct bs_ledger *l;

    (void)state;
    assert_int_equal(bs_ledger_new(3, &l), 0);
    assert_int_equal(bs_ledger_open(l, 0, 1000), 0);
    assert_int_equal(bs_ledger_open(l, 1, 250), 0);
    assert_int_equal(bs_ledger_open(l, 3, 1), BS_EINVAL);
    assert_int_equal(bs_ledger_open(l, 2, -1), BS_EINVAL);
    check_totals(l, 1250, 1250, 0, 0, 0, 0);
    /* Re-opening an account before any posting replaces its balance in the total. */
    assert_int_equal(bs_ledger_open(l, 0, 400), 0);
    check_totals(l, 650, 650, 0, 0, 0, 0);
    assert_int_equal(bs_ledger_balance(l, 0), 400);
    assert_int_equal(bs_ledger_balance(l, 1), 250);
    assert_int_equal(bs_ledger_balance(l, 2), 0);
    assert_int_equal(bs_ledger_balance(l, 3), 0); /* bad index */
    /* After the first posting the opening balances are frozen. */
    assert_int_equal(bs_ledger_debit(l, 1, 50), 0);
    assert_int_equal(bs_ledger_open(l, 2, 10), BS_ESTATE);
    assert_int_equal(bs_ledger_balance(l, 2), 0);
    check_totals(l, 650, 600, 50, 0, 1, 0);
    bs_ledger_free(l);
}

/* A sequence of postings with every balance checked exactly: a posting off by one minor
 * unit anywhere changes one of these numbers. */
static void ledger_postings_exact(void **state)
{
    struct bs_ledger *l;

    (void)state;
    assert_int_equal(bs_ledger_new(4, &l), 0);
    assert_int_equal(bs_ledger_open(l, 0, 2500000), 0);
    assert_int_equal(bs_ledger_open(l, 1, 800000000), 0);
    assert_int_equal(bs_ledger_open(l, 2, 1), 0);
    check_totals(l, 802500001, 802500001, 0, 0, 0, 0);

    assert_int_equal(bs_ledger_debit(l, 0, 123457), 0); /* 2500000 - 123457 = 2376543 */
    assert_int_equal(bs_ledger_balance(l, 0), 2376543);
    assert_int_equal(bs_ledger_debit(l, 1, 2266401), 0); /* 800000000 - 2266401 = 797733599 */
    assert_int_equal(bs_ledger_balance(l, 1), 797733599);
    assert_int_equal(bs_ledger_debit(l, 2, 1), 0); /* the last minor unit */
    assert_int_equal(bs_ledger_balance(l, 2), 0);
    check_totals(l, 802500001, 802500001 - 2389859, 2389859, 0, 3, 0);

    assert_int_equal(bs_ledger_credit(l, 1, 2266401), 0); /* reversal of the IRR debit */
    assert_int_equal(bs_ledger_balance(l, 1), 800000000);
    assert_int_equal(bs_ledger_credit(l, 3, 99), 0); /* a refund to an empty account */
    assert_int_equal(bs_ledger_balance(l, 3), 99);
    assert_int_equal(bs_ledger_debit(l, 0, 0), 0); /* a zero posting is counted, moves nothing */
    assert_int_equal(bs_ledger_balance(l, 0), 2376543);
    check_totals(l, 802500001, 2376543 + 800000000 + 0 + 99, 2389859, 2266500, 4, 2);

    assert_int_equal(bs_ledger_debit(l, 0, -1), BS_EINVAL);
    assert_int_equal(bs_ledger_credit(l, 0, -1), BS_EINVAL);
    assert_int_equal(bs_ledger_debit(l, 4, 1), BS_EINVAL);
    assert_int_equal(bs_ledger_credit(l, 4, 1), BS_EINVAL);
    check_totals(l, 802500001, 802376642, 2389859, 2266500, 4, 2);
    bs_ledger_free(l);
}

static void ledger_insufficient_funds(void **state)
{
    struct bs_ledger *l;

    (void)state;
    assert_int_equal(bs_ledger_new(2, &l), 0);
    assert_int_equal(bs_ledger_open(l, 0, 100000), 0);
    assert_int_equal(bs_ledger_debit(l, 0, 100001), BS_ERANGE);
    assert_int_equal(bs_ledger_balance(l, 0), 100000);
    check_totals(l, 100000, 100000, 0, 0, 0, 0);        /* nothing posted, not even counted */
    assert_int_equal(bs_ledger_debit(l, 0, 100000), 0); /* exactly the balance is fine */
    assert_int_equal(bs_ledger_balance(l, 0), 0);
    assert_int_equal(bs_ledger_debit(l, 0, 1), BS_ERANGE);
    assert_int_equal(bs_ledger_debit(l, 1, 1), BS_ERANGE); /* never opened: balance 0 */
    assert_int_equal(bs_ledger_debit(l, 0, INT64_MAX), BS_ERANGE);
    check_totals(l, 100000, 0, 100000, 0, 1, 0);
    bs_ledger_free(l);
}

/*
 * Regression (found by this test, fixed in fbdd662): bs_ledger_credit() passed
 * &l->balance[idx] as the result of __builtin_add_overflow(), which stores the wrapped
 * sum even when it reports overflow, so a credit returning BS_EOVERFLOW had already
 * replaced INT64_MAX - 5 with INT64_MIN + 4 and conservation failed. Expected:
 * BS_EOVERFLOW and nothing changed.
 */
static void ledger_credit_overflow_changes_nothing(void **state)
{
    struct bs_ledger *l;

    (void)state;
    assert_int_equal(bs_ledger_new(1, &l), 0);
    assert_int_equal(bs_ledger_open(l, 0, INT64_MAX - 5), 0);
    assert_int_equal(bs_ledger_credit(l, 0, 10), BS_EOVERFLOW);
    assert_int_equal(bs_ledger_balance(l, 0), INT64_MAX - 5);
    assert_int_equal(bs_ledger_check(l), 0);
    bs_ledger_free(l);
}

/*
 * Regression (found by this test, fixed in fbdd662): the same pattern in bs_ledger_open()
 * left the opening total wrapped (INT64_MAX + 1 → INT64_MIN) after BS_EOVERFLOW, and
 * bs_ledger_check() then reported BS_ESTATE.
 */
static void ledger_open_overflow_changes_nothing(void **state)
{
    struct bs_ledger *l;
    struct bs_ledger_totals t;

    (void)state;
    assert_int_equal(bs_ledger_new(2, &l), 0);
    assert_int_equal(bs_ledger_open(l, 0, INT64_MAX), 0);
    assert_int_equal(bs_ledger_open(l, 1, 1), BS_EOVERFLOW);
    assert_int_equal(bs_ledger_balance(l, 1), 0);
    bs_ledger_totals(l, &t);
    assert_int_equal(t.opening, INT64_MAX);
    assert_int_equal(bs_ledger_check(l), 0);
    bs_ledger_free(l);
}

/* Stand-in advices overdraw: allowed, counted as a debit, conserved; overflow changes
 * nothing. */
static void ledger_force_debit(void **state)
{
    struct bs_ledger *l;

    (void)state;
    assert_int_equal(bs_ledger_new(2, &l), 0);
    assert_int_equal(bs_ledger_open(l, 0, 1000), 0);
    assert_int_equal(bs_ledger_debit(l, 0, 1500), BS_ERANGE);
    assert_int_equal(bs_ledger_force_debit(l, 0, 1500), 0);
    assert_int_equal(bs_ledger_balance(l, 0), -500);
    check_totals(l, 1000, -500, 1500, 0, 1, 0);
    /* An ordinary debit from an overdrawn account is still refused. */
    assert_int_equal(bs_ledger_debit(l, 0, 1), BS_ERANGE);
    assert_int_equal(bs_ledger_credit(l, 0, 1500), 0);
    assert_int_equal(bs_ledger_balance(l, 0), 1000);
    check_totals(l, 1000, 1000, 1500, 1500, 1, 1);
    assert_int_equal(bs_ledger_force_debit(l, 0, -1), BS_EINVAL);
    assert_int_equal(bs_ledger_force_debit(l, 2, 1), BS_EINVAL);
    bs_ledger_free(l);
    /* -INT64_MAX - 2 does not fit: refused, and the balance keeps its value. (A fresh
     * ledger, so the running totals themselves stay within int64.) */
    assert_int_equal(bs_ledger_new(1, &l), 0);
    assert_int_equal(bs_ledger_force_debit(l, 0, INT64_MAX), 0);
    assert_int_equal(bs_ledger_balance(l, 0), -INT64_MAX);
    assert_int_equal(bs_ledger_force_debit(l, 0, 2), BS_EOVERFLOW);
    assert_int_equal(bs_ledger_balance(l, 0), -INT64_MAX);
    check_totals(l, 0, -INT64_MAX, INT64_MAX, 0, 1, 0);
    bs_ledger_free(l);
}

/* Many random postings over many accounts, against a model kept in the test. */
static void ledger_random_conservation(void **state)
{
    enum { N = 64, OPS = 20000 };
    struct bs_ledger *l;
    int64_t model[N], debited = 0, credited = 0, opening = 0;
    uint64_t debits = 0, credits = 0;
    uint64_t x = 0x9e3779b97f4a7c15ULL;

    (void)state;
    assert_int_equal(bs_ledger_new(N, &l), 0);
    for (size_t i = 0; i < N; i++) {
        model[i] = (int64_t)(i * 1000003 % 5000000);
        opening += model[i];
        assert_int_equal(bs_ledger_open(l, i, model[i]), 0);
    }
    for (int op = 0; op < OPS; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t i = (size_t)(x % N);
        int64_t amt = (int64_t)((x >> 16) % 300000);
        if ((x >> 40) & 1) {
            int rc = bs_ledger_debit(l, i, amt);
            if (amt > model[i]) {
                assert_int_equal(rc, BS_ERANGE);
            } else {
                assert_int_equal(rc, 0);
                model[i] -= amt;
                debited += amt;
                debits++;
            }
        } else {
            assert_int_equal(bs_ledger_credit(l, i, amt), 0);
            model[i] += amt;
            credited += amt;
            credits++;
        }
        assert_int_equal(bs_ledger_balance(l, i), model[i]);
    }
    int64_t sum = 0;
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(bs_ledger_balance(l, i), model[i]);
        sum += model[i];
    }
    check_totals(l, opening, sum, debited, credited, debits, credits);
    bs_ledger_free(l);
}

static int reset(void **state)
{
    (void)state;
    fail_after = -1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest rates[] = {
        cmocka_unit_test(rate_parse_good),         cmocka_unit_test(rate_parse_bad),
        cmocka_unit_test(rate_de10_round_trip),    cmocka_unit_test(rate_de10_errors),
        cmocka_unit_test(rate_markup_scenario),    cmocka_unit_test(rate_markup_more),
        cmocka_unit_test(rate_markup_rounds_once), cmocka_unit_test(rate_markup_direction),
    };
    const struct CMUnitTest fx[] = {
        cmocka_unit_test(fx_convert_table),
        cmocka_unit_test(fx_table_rates_are_applied_rates),
        cmocka_unit_test(fx_convert_misc),
        cmocka_unit_test(amount_fits),
    };
    const struct CMUnitTest ledger[] = {
        cmocka_unit_test_setup(ledger_new_limits, reset),
        cmocka_unit_test_setup(ledger_open, reset),
        cmocka_unit_test_setup(ledger_postings_exact, reset),
        cmocka_unit_test_setup(ledger_insufficient_funds, reset),
        cmocka_unit_test_setup(ledger_credit_overflow_changes_nothing, reset),
        cmocka_unit_test_setup(ledger_open_overflow_changes_nothing, reset),
        cmocka_unit_test_setup(ledger_force_debit, reset),
        cmocka_unit_test_setup(ledger_random_conservation, reset),
    };
    int failed = 0;

    bs_set_allocator(&test_allocator);
    failed += cmocka_run_group_tests_name("rates", rates, NULL, NULL);
    failed += cmocka_run_group_tests_name("fx", fx, NULL, NULL);
    failed += cmocka_run_group_tests_name("ledger", ledger, NULL, NULL);
    bs_set_allocator(NULL);
    return failed ? 1 : 0;
}
