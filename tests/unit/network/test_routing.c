/*
 * BIN routing, generated card populations, transaction matching keys and DE 90, response
 * MTIs and the DE 7/12/13 clocks (src/network/common.c, txnkey.c, node.c).
 *
 * Expected PANs are checked with a Luhn implementation written here (ISO/IEC 7812-1
 * Annex B), not the library's; expected DE 7/12/13 strings come from Python's datetime.
 */
#include <stdio.h>
#include <string.h>

#include <bridgesim/network.h>

#include "net_test.h"
#include "network/txnkey.h"

/* ---- helpers -------------------------------------------------------------------------- */

/* Luhn (ISO/IEC 7812-1 Annex B): double every second digit from the right. */
static bool luhn_ok(const char *pan)
{
    size_t n = strlen(pan);
    int sum = 0;

    for (size_t i = 0; i < n; i++) {
        int d = pan[n - 1 - i] - '0';
        if (d < 0 || d > 9)
            return false;
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return n >= 2 && sum % 10 == 0;
}

static int lookup(const struct bs_bin_table *t, const char *pan, uint32_t *ret)
{
    return bs_bin_lookup(t, pan, strlen(pan), ret);
}

/* ---- BIN table ------------------------------------------------------------------------ */

static void fill_table(struct bs_bin_table *t, bool reverse)
{
    static const struct {
        uint64_t lo, hi;
        unsigned digits;
        uint32_t target;
    } e[] = {
        { 2200, 2204, 4, 1 },     /* Mir */
        { 220070, 220070, 6, 2 }, /* one 6-digit IIN inside the Mir range */
        { 603799, 603799, 6, 3 }, /* Melli */
        { 589210, 589210, 6, 4 }, /* Sepah */
        { 22007099, 22007099, 8, 5 },
    };
    const size_t n = sizeof(e) / sizeof(e[0]);

    bs_bin_table_init(t);
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        assert_int_equal(bs_bin_table_add(t, e[i].lo, e[i].hi, e[i].digits, e[i].target), 0);
    }
    assert_int_equal(t->n, n);
}

static void check_routes(const struct bs_bin_table *t)
{
    static const struct {
        const char *pan;
        int rc;
        uint32_t target;
    } cases[] = {
        { "2200701234567895", 0, 2 }, /* 220070: 6 digits beat 4 */
        { "2200691234567896", 0, 1 }, /* 2200 only */
        { "2200711234567894", 0, 1 }, /* 220071 is not the 6-digit IIN */
        { "2204999999999999", 0, 1 }, /* upper end of the 4-digit range */
        { "2200709999999999", 0, 5 }, /* 8 digits beat 6 and 4 */
        { "2205000000000000", BS_ENOTFOUND, 0 },
        { "2199999999999999", BS_ENOTFOUND, 0 },
        { "6037991234567890", 0, 3 },
        { "5892101234567890", 0, 4 },
        { "6037981234567890", BS_ENOTFOUND, 0 },
        { "22007", 0, 1 },  /* shorter than 6 digits: only 4-digit ranges can match */
        { "220070", 0, 2 }, /* exactly the IIN */
        { "220", BS_ENOTFOUND, 0 },
        { "", BS_ENOTFOUND, 0 },
        { "22a0701234567895", BS_EFORMAT, 0 },
        { "2200701234567 95", BS_EFORMAT, 0 }, /* non-digits anywhere, not only in the BIN */
        { "-200701234567895", BS_EFORMAT, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t got = 999;
        int rc = lookup(t, cases[i].pan, &got);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].pan, rc, cases[i].rc);
        if (rc == 0 && got != cases[i].target)
            fail_msg("\"%s\": target %u, want %u", cases[i].pan, got, cases[i].target);
        if (rc != 0 && got != 999)
            fail_msg("\"%s\": output written on failure", cases[i].pan);
    }
}

static void bin_longest_prefix(void **state)
{
    struct bs_bin_table t;

    (void)state;
    fill_table(&t, false);
    check_routes(&t);
    bs_bin_table_deinit(&t);
    /* The answer does not depend on the order the ranges were added in. */
    fill_table(&t, true);
    check_routes(&t);
    bs_bin_table_deinit(&t);
    assert_null(t.e);
    assert_int_equal(t.n, 0);
}

static void bin_add_errors(void **state)
{
    struct bs_bin_table t;

    (void)state;
    fill_table(&t, false);
    /* Overlaps with a range of the same length. */
    assert_int_equal(bs_bin_table_add(&t, 2203, 2210, 4, 9), BS_EEXIST);
    assert_int_equal(bs_bin_table_add(&t, 2100, 2200, 4, 9), BS_EEXIST);
    assert_int_equal(bs_bin_table_add(&t, 2201, 2201, 4, 9), BS_EEXIST);
    assert_int_equal(bs_bin_table_add(&t, 220070, 220070, 6, 9), BS_EEXIST);
    assert_int_equal(bs_bin_table_add(&t, 220000, 229999, 6, 9), BS_EEXIST);
    /* Adjacent ranges and nested ranges of another length are fine. */
    assert_int_equal(bs_bin_table_add(&t, 2205, 2209, 4, 6), 0);
    assert_int_equal(bs_bin_table_add(&t, 22, 22, 2, 7), 0);
    /* Bad arguments. */
    assert_int_equal(bs_bin_table_add(&t, 1, 1, 0, 9), BS_EINVAL);
    assert_int_equal(bs_bin_table_add(&t, 1, 1, 9, 9), BS_EINVAL);
    assert_int_equal(bs_bin_table_add(&t, 5000, 4000, 4, 9), BS_EINVAL);
    assert_int_equal(bs_bin_table_add(&t, 9999, 10000, 4, 9), BS_EINVAL); /* 5-digit bound */
    assert_int_equal(t.n, 7);
    {
        uint32_t got;
        assert_int_equal(lookup(&t, "2207000000000000", &got), 0);
        assert_int_equal(got, 6);
        assert_int_equal(lookup(&t, "2299000000000000", &got), 0);
        assert_int_equal(got, 7);
    }
    bs_bin_table_deinit(&t);
}

static void bin_limit(void **state)
{
    struct bs_bin_table t;

    (void)state;
    bs_bin_table_init(&t);
    for (uint64_t i = 0; i < BS_BIN_TABLE_MAX; i++)
        assert_int_equal(bs_bin_table_add(&t, 10000000 + i, 10000000 + i, 8, (uint32_t)i), 0);
    assert_int_equal(bs_bin_table_add(&t, 99999999, 99999999, 8, 0), BS_ELIMIT);
    {
        uint32_t got;
        assert_int_equal(lookup(&t, "100040951234", &got), 0);
        assert_int_equal(got, 4095);
    }
    bs_bin_table_deinit(&t);
}

/* ---- card populations ---------------------------------------------------------------- */

/* Check PAN @idx of @p: length, prefix, account digits, Luhn; and the round trip. */
static void check_card(const struct bs_card_population *p, uint64_t idx, const char *want_prefix,
                       uint64_t want_acct)
{
    char pan[20], acct[20];
    uint64_t back = UINT64_MAX;
    size_t plen = strlen(want_prefix);
    unsigned acct_digits = p->pan_length - 1u - (unsigned)plen;

    memset(pan, 'x', sizeof(pan));
    assert_int_equal(bs_card_pan(p, idx, pan), 0);
    assert_int_equal(strlen(pan), p->pan_length);
    if (memcmp(pan, want_prefix, plen) != 0)
        fail_msg("card %llu: PAN %s does not start with %s", (unsigned long long)idx, pan,
                 want_prefix);
    snprintf(acct, sizeof(acct), "%0*llu", (int)acct_digits, (unsigned long long)want_acct);
    if (memcmp(pan + plen, acct, acct_digits) != 0)
        fail_msg("card %llu: PAN %s, account part should be %s", (unsigned long long)idx, pan,
                 acct);
    if (!luhn_ok(pan))
        fail_msg("card %llu: PAN %s fails Luhn", (unsigned long long)idx, pan);
    assert_true(bs_luhn_valid(pan, strlen(pan)));
    if (idx < p->cards) {
        assert_int_equal(bs_card_index(p, pan, strlen(pan), &back), 0);
        assert_int_equal(back, idx);
    } else {
        assert_int_equal(bs_card_index(p, pan, strlen(pan), &back), BS_ENOTFOUND);
        assert_int_equal(back, UINT64_MAX);
    }
}

static void cards_one_range(void **state)
{
    struct bs_card_population p = { .nranges = 1, .cards = 100000, .pan_length = 16 };

    (void)state;
    p.ranges[0] = (struct bs_card_range){ 2200, 2204, 4 };
    /* span 5: card i has prefix 2200 + i % 5 and account i / 5 (11 digits). */
    check_card(&p, 0, "2200", 0);
    check_card(&p, 1, "2201", 0);
    check_card(&p, 4, "2204", 0);
    check_card(&p, 5, "2200", 1);
    check_card(&p, 12345, "2200", 2469);
    check_card(&p, 99999, "2204", 19999);
    /* A valid BIN and Luhn digit but an index past the population: not one of ours. */
    check_card(&p, 100000, "2200", 20000);
    check_card(&p, UINT64_C(499999999999), "2204", UINT64_C(99999999999));
    for (uint64_t i = 0; i < 3000; i++) {
        char pan[20];
        uint64_t back;
        assert_int_equal(bs_card_pan(&p, i * 33, pan), 0);
        assert_true(luhn_ok(pan));
        assert_int_equal(bs_card_index(&p, pan, 16, &back), 0);
        assert_int_equal(back, i * 33);
    }
}

static void cards_several_ranges(void **state)
{
    struct bs_card_population p = { .nranges = 3, .cards = 1000, .pan_length = 16 };

    (void)state;
    p.ranges[0] = (struct bs_card_range){ 603799, 603799, 6 };
    p.ranges[1] = (struct bs_card_range){ 589210, 589210, 6 };
    p.ranges[2] = (struct bs_card_range){ 2200, 2201, 4 };
    /* span 4: i % 4 → 603799, 589210, 2200, 2201; account i / 4. */
    check_card(&p, 0, "603799", 0);
    check_card(&p, 1, "589210", 0);
    check_card(&p, 2, "2200", 0);
    check_card(&p, 3, "2201", 0);
    check_card(&p, 4, "603799", 1);
    check_card(&p, 999, "2201", 249);
    check_card(&p, 1000, "603799", 250); /* past the population */
    for (uint64_t i = 0; i < p.cards; i++) {
        char pan[20];
        uint64_t back;
        assert_int_equal(bs_card_pan(&p, i, pan), 0);
        assert_int_equal(bs_card_index(&p, pan, 16, &back), 0);
        assert_int_equal(back, i);
    }
}

static void cards_19_and_13_digits(void **state)
{
    struct bs_card_population p19 = { .nranges = 1,
                                      .cards = UINT64_C(10000000000),
                                      .pan_length = 19 };
    struct bs_card_population p13 = { .nranges = 1, .cards = 20000000, .pan_length = 13 };
    char pan[20];

    (void)state;
    p19.ranges[0] = (struct bs_card_range){ 220070, 220079, 6 };
    /* 19 digits: 6 of BIN, 12 of account, 1 check digit. */
    check_card(&p19, 0, "220070", 0);
    check_card(&p19, 9, "220079", 0);
    check_card(&p19, UINT64_C(9999999999), "220079", UINT64_C(999999999));
    /* 13 digits with a 6-digit BIN leave 6 account digits: 10 prefixes × 10^6 accounts. */
    p13.ranges[0] = (struct bs_card_range){ 220070, 220079, 6 };
    p13.cards = 10000000;
    check_card(&p13, 9999999, "220079", 999999);
    assert_int_equal(bs_card_pan(&p13, 10000000, pan), BS_ERANGE);
    /* Bad populations. */
    p13.pan_length = 12;
    assert_int_equal(bs_card_pan(&p13, 0, pan), BS_EINVAL);
    p13.pan_length = 20;
    assert_int_equal(bs_card_pan(&p13, 0, pan), BS_EINVAL);
    p13.pan_length = 13;
    p13.nranges = 0;
    assert_int_equal(bs_card_pan(&p13, 0, pan), BS_EINVAL);
}

static void cards_not_ours(void **state)
{
    struct bs_card_population p = { .nranges = 1, .cards = 1000, .pan_length = 16 };
    char pan[20];
    uint64_t back = 77;

    (void)state;
    p.ranges[0] = (struct bs_card_range){ 603799, 603799, 6 };
    assert_int_equal(bs_card_pan(&p, 123, pan), 0);
    assert_int_equal(bs_card_index(&p, pan, 16, &back), 0);
    assert_int_equal(back, 123);
    back = 77;
    /* Wrong check digit. */
    pan[15] = (char)('0' + (pan[15] - '0' + 1) % 10);
    assert_int_equal(bs_card_index(&p, pan, 16, &back), BS_ENOTFOUND);
    /* Wrong length (the first 15 digits, a different PAN). */
    assert_int_equal(bs_card_index(&p, pan, 15, &back), BS_ENOTFOUND);
    /* Another bank's BIN with a valid Luhn digit. */
    assert_int_equal(bs_card_index(&p, "5892100000001238", 16, &back), BS_ENOTFOUND);
    assert_true(luhn_ok("5892100000001238"));
    /* Non-digits. */
    assert_int_equal(bs_card_index(&p, "60379900000012x3", 16, &back), BS_ENOTFOUND);
    assert_int_equal(back, 77);
}

/* ---- matching keys and DE 90 ---------------------------------------------------------- */

static void make_req(struct bs_iso_msg *m, const char *mti, const char *stan, const char *dt,
                     const char *acq)
{
    assert_int_equal(bs_iso_msg_init(m, mti), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 2, "2200701234567895"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 4, "000000150000"), 0);
    if (dt)
        assert_int_equal(bs_iso_msg_set_str(m, 7, dt), 0);
    if (stan)
        assert_int_equal(bs_iso_msg_set_str(m, 11, stan), 0);
    if (acq)
        assert_int_equal(bs_iso_msg_set_str(m, 32, acq), 0);
}

static void txnkey_matching(void **state)
{
    struct bs_iso_msg a, b;
    uint64_t k;

    (void)state;
    make_req(&a, "0200", "000123", "0615123456", "12345");
    k = bs_txn_key(&a);
    /* The response matches its request; so does a repeat with other content. */
    make_req(&b, "0210", "000123", "0615123456", "12345");
    assert_int_equal(bs_txn_key(&b), k);
    assert_int_equal(bs_iso_msg_set_str(&b, 4, "000000999999"), 0);
    assert_int_equal(bs_txn_key(&b), k);
    /* Leading zeros of DE 32 do not matter. */
    make_req(&b, "0200", "000123", "0615123456", "00012345");
    assert_int_equal(bs_txn_key(&b), k);
    make_req(&b, "0200", "000123", "0615123456", "00000012345");
    assert_int_equal(bs_txn_key(&b), k);
    /* Every part of the key matters. */
    make_req(&b, "0200", "000124", "0615123456", "12345");
    assert_int_not_equal(bs_txn_key(&b), k);
    make_req(&b, "0200", "000123", "0615123457", "12345");
    assert_int_not_equal(bs_txn_key(&b), k);
    make_req(&b, "0200", "000123", "0615123456", "12346");
    assert_int_not_equal(bs_txn_key(&b), k);
    make_req(&b, "0200", "000123", "0615123456", "123450");
    assert_int_not_equal(bs_txn_key(&b), k);
    make_req(&b, "0100", "000123", "0615123456", "12345");
    assert_int_not_equal(bs_txn_key(&b), k);
    /* Reversals are their own class: 0420, 0421 and 0430 share a key, not with 0200. */
    make_req(&b, "0420", "000123", "0615123456", "12345");
    k = bs_txn_key(&b);
    assert_int_not_equal(k, bs_txn_key(&a));
    make_req(&b, "0421", "000123", "0615123456", "12345");
    assert_int_equal(bs_txn_key(&b), k);
    make_req(&b, "0430", "000123", "0615123456", "12345");
    assert_int_equal(bs_txn_key(&b), k);
}

static void de90_build_and_parse(void **state)
{
    struct bs_iso_msg orig, rev;
    struct bs__tkey ko, kr;
    char de90[43];
    /* MTI n4 | STAN n6 | DE 7 n10 | acquirer n11 | forwarding n11 (ISO 8583:1987 DE 90). */
    const char *want = "0200"
                       "000123"
                       "0615123456"
                       "00000012345"
                       "00000000987";

    (void)state;
    make_req(&orig, "0200", "000123", "0615123456", "12345");
    assert_int_equal(bs_iso_msg_set_str(&orig, 33, "987"), 0);
    memset(de90, 'x', sizeof(de90));
    bs__de90_from_msg(&orig, de90);
    assert_string_equal(de90, want);

    make_req(&rev, "0420", "000200", "0615130000", "12345");
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, de90), 0);
    bs__tkey_from_msg(&orig, &ko);
    assert_int_equal(bs__tkey_from_de90(&rev, &kr), 0);
    assert_true(bs__tkey_eq(&ko, &kr));
    assert_int_equal(bs__tkey_hash(&ko), bs__tkey_hash(&kr));
    assert_int_equal(kr.cls, '2');
    assert_string_equal(kr.acq, "12345");
    assert_string_equal(kr.stan, "000123");
    assert_string_equal(kr.dt, "0615123456");

    /* DE 32 written with leading zeros in the original: the same key both ways. */
    make_req(&orig, "0200", "000123", "0615123456", "0000012345");
    bs__de90_from_msg(&orig, de90);
    assert_string_equal(de90, "0200000123061512345600000012345"
                              "00000000000");
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, de90), 0);
    bs__tkey_from_msg(&orig, &ko);
    assert_int_equal(bs__tkey_from_de90(&rev, &kr), 0);
    assert_true(bs__tkey_eq(&ko, &kr));

    /* An acquirer id of all zeros normalises to "0" both ways. */
    make_req(&orig, "0200", "000123", "0615123456", "000");
    bs__de90_from_msg(&orig, de90);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, de90), 0);
    bs__tkey_from_msg(&orig, &ko);
    assert_int_equal(bs__tkey_from_de90(&rev, &kr), 0);
    assert_true(bs__tkey_eq(&ko, &kr));

    /* A 0100 original keeps its class. */
    make_req(&orig, "0100", "000001", "0101000000", "7");
    bs__de90_from_msg(&orig, de90);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, de90), 0);
    assert_int_equal(bs__tkey_from_de90(&rev, &kr), 0);
    assert_int_equal(kr.cls, '1');
}

static void de90_bad(void **state)
{
    struct bs_iso_msg rev;
    struct bs__tkey k;

    (void)state;
    make_req(&rev, "0420", "000200", "0615130000", "12345");
    assert_int_equal(bs__tkey_from_de90(&rev, &k), BS_EFORMAT); /* absent */
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, "020000012306151234560000001234500000000987"), 0);
    assert_int_equal(bs__tkey_from_de90(&rev, &k), 0);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, "02000001230615123456000000123450000000098"),
                     0); /* 41 digits */
    assert_int_equal(bs__tkey_from_de90(&rev, &k), BS_EFORMAT);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90,
                                        "020000012306151234560000001234500000000987"
                                        "1"),
                     0); /* 43 digits */
    assert_int_equal(bs__tkey_from_de90(&rev, &k), BS_EFORMAT);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, "0200000123061512345600000012345000000009 7"), 0);
    assert_int_equal(bs__tkey_from_de90(&rev, &k), BS_EFORMAT);
}

/*
 * BUG (src/network/txnkey.c:33 bs__tkey_from_msg() vs :69 bs__de90_from_msg() and :56
 * bs__tkey_from_de90()):
 * a request without DE 32 is keyed with acq "" by bs__tkey_from_msg(), but DE 90 built from
 * it carries eleven zeros, which bs__tkey_from_de90() normalises to "0". So a reversal can
 * never find an original that had no DE 32, and an issuer would not credit it back.
 * Expected: the two normalisations agree for every original, absent DE 32 included.
 */
static void de90_round_trip_without_de32(void **state)
{
    struct bs_iso_msg orig, rev;
    struct bs__tkey ko, kr;
    char de90[43];

    (void)state;
    make_req(&orig, "0200", "000123", "0615123456", NULL);
    bs__de90_from_msg(&orig, de90);
    assert_string_equal(de90, "020000012306151234560000000000000000000000");
    make_req(&rev, "0420", "000200", "0615130000", NULL);
    assert_int_equal(bs_iso_msg_set_str(&rev, 90, de90), 0);
    bs__tkey_from_msg(&orig, &ko);
    assert_int_equal(bs__tkey_from_de90(&rev, &kr), 0);
    if (!bs__tkey_eq(&ko, &kr))
        fail_msg("original keyed with DE 32 \"%s\", its DE 90 with \"%s\"", ko.acq, kr.acq);
}

/* ---- MTIs and clocks ------------------------------------------------------------------ */

static void mti_response(void **state)
{
    static const struct {
        const char *req, *resp;
    } good[] = {
        { "0100", "0110" }, { "0101", "0110" }, { "0120", "0130" }, { "0121", "0130" },
        { "0200", "0210" }, { "0201", "0210" }, { "0220", "0230" }, { "0221", "0230" },
        { "0400", "0410" }, { "0401", "0410" }, { "0420", "0430" }, { "0421", "0430" },
        { "0800", "0810" }, { "0820", "0830" }, { "1200", "1210" },
    };
    static const char *const bad[] = { "0110", "0210", "0230",  "0430", "0810",
                                       "0413", "020",  "02000", "",     "0240" };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char out[5] = "xxxx";
        assert_int_equal(bs_mti_response(good[i].req, out), 0);
        assert_string_equal(out, good[i].resp);
        assert_false(bs_mti_is_response(good[i].req));
        assert_true(bs_mti_is_response(good[i].resp));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[5] = "xxxx";
        if (bs_mti_response(bad[i], out) != BS_EINVAL)
            fail_msg("\"%s\" accepted as a request", bad[i]);
        assert_string_equal(out, "xxxx");
    }
}

static void format_times(void **state)
{
    /* From Python: datetime(1970,1,1,tzinfo=utc) + timedelta(microseconds=t), then + offset. */
    static const struct {
        bs_time_us t;
        int off;
        const char *de7, *de12, *de13;
    } cases[] = {
        /* New Year at Moscow (+03:00) and Tehran (+03:30) */
        { INT64_C(1735678799999999), 180, "1231205959", "235959", "1231" }, /* 20:59:59.999999Z */
        { INT64_C(1735678800000000), 180, "1231210000", "000000", "0101" }, /* 21:00Z */
        { INT64_C(1735677000000000), 210, "1231203000", "000000", "0101" }, /* 20:30Z */
        { INT64_C(1735676999000000), 210, "1231202959", "235959", "1231" }, /* 20:29:59Z */
        /* 29 February 2024 (leap year) */
        { INT64_C(1709152200000000), 210, "0228203000", "000000", "0229" }, /* 2024-02-28T20:30Z */
        { INT64_C(1709153999000000), 180, "0228205959", "235959", "0228" },
        { INT64_C(1709154000000000), 180, "0228210000", "000000", "0229" },
        { INT64_C(1709251199000000), 0, "0229235959", "235959", "0229" },
        { INT64_C(1709251200000000), -300, "0301000000", "190000", "0229" }, /* west of UTC */
        /* 2023 and 2100 are not leap years; 2000 is */
        { INT64_C(1677618000000000), 180, "0228210000", "000000", "0301" },
        { INT64_C(1677616200000000), 210, "0228203000", "000000", "0301" },
        { INT64_C(951856200000000), 210, "0229203000", "000000", "0301" },  /* 2000-02-29T20:30Z */
        { INT64_C(4107531600000000), 180, "0228210000", "000000", "0301" }, /* 2100-02-28T21Z */
        /* fractions of a second are truncated */
        { INT64_C(1749990896500000), 210, "0615123456", "160456", "0615" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char de7[11], de12[7], de13[5];
        memset(de7, 'x', sizeof(de7));
        memset(de12, 'x', sizeof(de12));
        memset(de13, 'x', sizeof(de13));
        bs_format_times(cases[i].t, cases[i].off, de7, de12, de13);
        if (strcmp(de7, cases[i].de7) || strcmp(de12, cases[i].de12) || strcmp(de13, cases[i].de13))
            fail_msg("case %zu: %s %s %s, want %s %s %s", i, de7, de12, de13, cases[i].de7,
                     cases[i].de12, cases[i].de13);
        /* Outputs may be skipped. */
        memset(de12, 'x', sizeof(de12));
        bs_format_times(cases[i].t, cases[i].off, NULL, de12, NULL);
        assert_string_equal(de12, cases[i].de12);
        memset(de13, 'x', sizeof(de13));
        bs_format_times(cases[i].t, cases[i].off, NULL, NULL, de13);
        assert_string_equal(de13, cases[i].de13);
    }
}

int t_run_routing(void)
{
    const struct CMUnitTest bin[] = {
        cmocka_unit_test(bin_longest_prefix),
        cmocka_unit_test(bin_add_errors),
        cmocka_unit_test(bin_limit),
    };
    const struct CMUnitTest cards[] = {
        cmocka_unit_test(cards_one_range),
        cmocka_unit_test(cards_several_ranges),
        cmocka_unit_test(cards_19_and_13_digits),
        cmocka_unit_test(cards_not_ours),
    };
    const struct CMUnitTest keys[] = {
        cmocka_unit_test(txnkey_matching),
        cmocka_unit_test(de90_build_and_parse),
        cmocka_unit_test(de90_bad),
        cmocka_unit_test(de90_round_trip_without_de32),
    };
    const struct CMUnitTest clocks[] = {
        cmocka_unit_test(mti_response),
        cmocka_unit_test(format_times),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("bin", bin, NULL, NULL);
    failed += cmocka_run_group_tests_name("cards", cards, NULL, NULL);
    failed += cmocka_run_group_tests_name("txnkey", keys, NULL, NULL);
    failed += cmocka_run_group_tests_name("mti_times", clocks, NULL, NULL);
    return failed;
}
