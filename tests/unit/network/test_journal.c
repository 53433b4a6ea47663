/*
 * Journal records (src/journal/record.c): one valid JSON object per line (parsed back with
 * jansson), the PAN masked 6 + 4, track 2 and PIN never written, JSON escaping, BS_ENOSPC
 * without writing past the buffer; bs_format_iso_time() and bs_civil_from_us() against
 * values from Python's datetime, negative times and leap years included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bridgesim/journal.h>

#include "net_test.h"

#define PAN    "2200701234567895"
#define TRACK2 "2200701234567895=28122011234567890"

static void make_msg(struct bs_iso_msg *m)
{
    static const uint8_t pin[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };

    assert_int_equal(bs_iso_msg_init(m, "0200"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 2, PAN), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 3, "010000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 4, "000000150000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 6, "000006799202"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0615123456"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, "000123"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 14, "2812"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 32, "12345"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 35, TRACK2), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 37, "516612000123"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 39, "00"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 41, "TERM0001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 49, "643"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 51, "364"), 0);
    assert_int_equal(bs_iso_msg_set(m, 52, pin, sizeof(pin)), 0);
}

static json_t *parse_line(const char *line, int n)
{
    json_error_t err;
    json_t *j;

    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(line));
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', (size_t)n - 1));
    j = json_loads(line, 0, &err);
    if (!j)
        fail_msg("not JSON (%s at %d): %s", err.text, err.position, line);
    assert_true(json_is_object(j));
    return j;
}

static const char *jstr(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    if (!v || !json_is_string(v))
        fail_msg("no string \"%s\"", key);
    return json_string_value(v);
}

static json_int_t jint(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    if (!v || !json_is_integer(v))
        fail_msg("no integer \"%s\"", key);
    return json_integer_value(v);
}

static void journal_message_record(void **state)
{
    struct bs_iso_msg m;
    struct bs_jrec r = { .kind = BS_J_MSG_IN,
                         .t = INT64_C(1709210096789012),
                         .node = "shetab.MELLI",
                         .peer = "shetab.switch",
                         .trace = 77,
                         .sig = "ok",
                         .key_id = "shetab.switch#1",
                         .note = "approved" };
    char line[4096];
    json_t *j;
    int n;

    (void)state;
    make_msg(&m);
    r.msg = &m;
    n = bs_journal_format(&r, 42, line, sizeof(line));
    line[n > 0 ? n : 0] = '\0';
    j = parse_line(line, n);
    assert_int_equal(jint(j, "seq"), 42);
    assert_int_equal(jint(j, "t_us"), INT64_C(1709210096789012));
    assert_string_equal(jstr(j, "time"), "2024-02-29T12:34:56.789012Z");
    assert_string_equal(jstr(j, "node"), "shetab.MELLI");
    assert_string_equal(jstr(j, "peer"), "shetab.switch");
    assert_string_equal(jstr(j, "kind"), "msg_in");
    assert_int_equal(jint(j, "trace"), 77);
    assert_string_equal(jstr(j, "mti"), "0200");
    assert_string_equal(jstr(j, "stan"), "000123");
    assert_string_equal(jstr(j, "rrn"), "516612000123");
    assert_string_equal(jstr(j, "pan"), "220070******7895");
    assert_int_equal(jint(j, "amount"), 150000);
    assert_string_equal(jstr(j, "currency"), "643");
    assert_int_equal(jint(j, "billing_amount"), 6799202);
    assert_string_equal(jstr(j, "billing_currency"), "364");
    assert_string_equal(jstr(j, "rc"), "00");
    assert_string_equal(jstr(j, "sig"), "ok");
    assert_string_equal(jstr(j, "key_id"), "shetab.switch#1");
    assert_string_equal(jstr(j, "note"), "approved");
    json_decref(j);
    /* Cardholder data: the PAN only masked, never the track, expiry or PIN block. */
    assert_null(strstr(line, PAN));
    assert_null(strstr(line, "1234567"));
    assert_null(strstr(line, "=2812"));
    assert_null(strstr(line, "2812"));
    assert_null(strstr(line, "123456789abcdef0"));
    assert_null(strstr(line, "123456789ABCDEF0"));
}

/* The bytes of the message, journaled as hex, have PAN, expiry, track and PIN blanked. */
static void journal_wire_blanked(void **state)
{
    static const char *const dialects[] = { "mir", "shetab" };

    (void)state;
    for (size_t di = 0; di < 2; di++) {
        struct bs_iso_dialect *d = t_load_dialect(dialects[di]);
        struct bs_iso_msg m, back;
        uint8_t wire[2048], raw[2048];
        size_t len;
        char *line = malloc(T_LINE_MAX);
        const char *hex;
        json_t *j;
        int n;

        assert_non_null(line);
        make_msg(&m);
        assert_int_equal(bs_iso_msg_set_str(&m, 42, "MERCHANT0000001"), 0);
        assert_int_equal(bs_iso_pack(d, &m, wire, sizeof(wire), &len, NULL), 0);
        struct bs_jrec r = { .kind = BS_J_MSG_OUT,
                             .t = 1,
                             .node = "n",
                             .msg = &m,
                             .wire = wire,
                             .wire_len = len,
                             .dialect = d };
        n = bs_journal_format(&r, 1, line, T_LINE_MAX);
        line[n > 0 ? n : 0] = '\0';
        j = parse_line(line, n);
        hex = jstr(j, "hex");
        /* Groups of four bytes separated by spaces (BS_JOURNAL_HEX_LEN): compact it. */
        assert_int_equal(strlen(hex), BS_JOURNAL_HEX_LEN(len));
        {
            static char compact[2 * 2048 + 1];
            size_t c = 0;
            for (const char *q = hex; *q; q++)
                if (*q != ' ')
                    compact[c++] = *q;
            compact[c] = '\0';
            hex = compact;
        }
        assert_int_equal(strlen(hex), 2 * len);
        for (size_t i = 0; i < len; i++) {
            unsigned v;
            assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
            raw[i] = (uint8_t)v;
        }
        /* Still a message of the dialect, with the secrets gone and the rest kept. */
        assert_int_equal(bs_iso_unpack(d, raw, len, &back, NULL), 0);
        assert_string_equal(back.mti, "0200");
        {
            char v[64];
            assert_true(bs_iso_msg_get_str(&back, 2, v, sizeof(v)) == 16);
            assert_string_equal(v, "0000000000000000");
            assert_true(bs_iso_msg_get_str(&back, 14, v, sizeof(v)) == 4);
            assert_string_equal(v, "0000");
            assert_true(bs_iso_msg_get_str(&back, 35, v, sizeof(v)) > 0);
            for (const char *p = v; *p; p++)
                if (*p != '0' && *p != '=')
                    fail_msg("%s: track 2 not blanked: %s", dialects[di], v);
            assert_true(bs_iso_msg_get_str(&back, 4, v, sizeof(v)) == 12);
            assert_string_equal(v, "000000150000");
            assert_true(bs_iso_msg_get_str(&back, 42, v, sizeof(v)) == 15);
            assert_string_equal(v, "MERCHANT0000001");
        }
        {
            size_t pn;
            const uint8_t *pin = bs_iso_msg_get(&back, 52, &pn);
            assert_non_null(pin);
            for (size_t i = 0; i < pn; i++)
                assert_int_equal(pin[i], 0);
        }
        assert_null(strstr(line, PAN));
        assert_null(strstr(line, "3232303037303132")); /* "220070 12" as ASCII hex */
        json_decref(j);
        free(line);
        bs_iso_dialect_free(d);
    }
}

/* Names and notes with quotes, backslashes, control characters and non-ASCII bytes. */
static void journal_escaping(void **state)
{
    const char *node = "evil\"node\\\x01";
    const char *note = "line1\nline2\t\"quoted\" back\\slash \x7f del \x1f us";
    const char *peer = "caf\xc3\xa9"; /* UTF-8 "café": escaped byte by byte */
    struct bs_jrec r = { .kind = BS_J_STATE, .t = 0, .node = node, .peer = peer, .note = note };
    char line[2048];
    json_t *j;
    int n;

    (void)state;
    n = bs_journal_format(&r, 0, line, sizeof(line));
    line[n > 0 ? n : 0] = '\0';
    j = parse_line(line, n);
    assert_string_equal(jstr(j, "node"), node);
    assert_string_equal(jstr(j, "note"), note);
    assert_string_equal(jstr(j, "kind"), "state");
    assert_null(json_object_get(j, "trace")); /* 0: no trace */
    assert_null(json_object_get(j, "mti"));   /* no message */
    json_decref(j);
    /* Every byte of the line is printable ASCII (or the final newline). */
    for (int i = 0; i < n - 1; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
            fail_msg("raw byte 0x%02x at %d: %s", (unsigned char)line[i], i, line);
    assert_non_null(strstr(line, "\"caf\\u00c3\\u00a9\""));
}

/* Every buffer size short of the line gives BS_ENOSPC and writes nothing past it. */
static void journal_enospc(void **state)
{
    struct bs_iso_msg m;
    struct bs_jrec r = { .kind = BS_J_MSG_OUT,
                         .t = 123,
                         .node = "mir.MIRACQ1",
                         .peer = "p",
                         .trace = 9,
                         .note = "n\"o\"te" };
    char full[2048], buf[2048 + 64];
    int n, k;

    (void)state;
    make_msg(&m);
    r.msg = &m;
    n = bs_journal_format(&r, 7, full, sizeof(full));
    assert_true(n > 0);
    for (size_t cap = 0; cap < (size_t)n; cap++) {
        memset(buf, 0x5a, sizeof(buf));
        k = bs_journal_format(&r, 7, buf, cap);
        if (k != BS_ENOSPC)
            fail_msg("cap %zu of %d: %d", cap, n, k);
        for (size_t i = cap; i < sizeof(buf); i++)
            if ((unsigned char)buf[i] != 0x5a)
                fail_msg("cap %zu: byte %zu written", cap, i);
    }
    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(bs_journal_format(&r, 7, buf, (size_t)n), n);
    assert_memory_equal(buf, full, (size_t)n);
    assert_int_equal((unsigned char)buf[n], 0x5a);
}

/* ---- time ----------------------------------------------------------------------------- */

static const struct {
    bs_time_us t;
    const char *iso;
} iso_cases[] = {
    /* From Python: datetime(1970,1,1) + timedelta(microseconds=t). */
    { INT64_C(0), "1970-01-01T00:00:00.000000Z" },
    { INT64_C(-1), "1969-12-31T23:59:59.999999Z" },
    { INT64_C(1), "1970-01-01T00:00:00.000001Z" },
    { INT64_C(999999), "1970-01-01T00:00:00.999999Z" },
    { INT64_C(-1000000), "1969-12-31T23:59:59.000000Z" },
    { INT64_C(-1000001), "1969-12-31T23:59:58.999999Z" },
    { INT64_C(-86400000000), "1969-12-31T00:00:00.000000Z" },
    { INT64_C(951782400000000), "2000-02-29T00:00:00.000000Z" },
    { INT64_C(951868799999999), "2000-02-29T23:59:59.999999Z" },
    { INT64_C(-2203891200000001), "1900-02-28T23:59:59.999999Z" }, /* 1900: no 29 Feb */
    { INT64_C(-2203891200000000), "1900-03-01T00:00:00.000000Z" },
    { INT64_C(-11670955200000000), "1600-02-29T12:00:00.000000Z" },
    { INT64_C(4107542400000000), "2100-03-01T00:00:00.000000Z" },
    { INT64_C(1709210096789012), "2024-02-29T12:34:56.789012Z" },
    { INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z" },
    { INT64_C(-62135596800000000), "0001-01-01T00:00:00.000000Z" },
    { INT64_C(2147483648000000), "2038-01-19T03:14:08.000000Z" },
    { INT64_C(1747842744773943), "2025-05-21T15:52:24.773943Z" },
    { INT64_C(-4494812762700720), "1827-07-26T16:53:57.299280Z" },
    { INT64_C(-3668964060270549), "1853-09-26T03:18:59.729451Z" },
    { INT64_C(5133914279291384), "2132-09-08T07:17:59.291384Z" },
    { INT64_C(-1497003515826443), "1922-07-25T13:41:24.173557Z" },
    { INT64_C(-3816378068356904), "1849-01-23T22:58:51.643096Z" },
    { INT64_C(2168458696607578), "2038-09-18T21:38:16.607578Z" },
    { INT64_C(-1029266276815985), "1937-05-21T04:42:03.184015Z" },
};

static void iso_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(iso_cases) / sizeof(iso_cases[0]); i++) {
        char out[28];
        memset(out, 'x', sizeof(out));
        bs_format_iso_time(iso_cases[i].t, out);
        if (strcmp(out, iso_cases[i].iso) != 0)
            fail_msg("t=%lld: %s, want %s", (long long)iso_cases[i].t, out, iso_cases[i].iso);
    }
}

static void civil_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(iso_cases) / sizeof(iso_cases[0]); i++) {
        int wy, wmo, wd, wh, wmi, ws, wus;
        int y = -1, mo = -1, d = -1, h = -1, mi = -1, s = -1, us = -1;

        assert_int_equal(sscanf(iso_cases[i].iso, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &wy, &wmo, &wd,
                                &wh, &wmi, &ws, &wus),
                         7);
        bs_civil_from_us(iso_cases[i].t, 0, &y, &mo, &d, &h, &mi, &s, &us);
        if (y != wy || mo != wmo || d != wd || h != wh || mi != wmi || s != ws || us != wus)
            fail_msg("t=%lld: %04d-%02d-%02d %02d:%02d:%02d.%06d, want %s",
                     (long long)iso_cases[i].t, y, mo, d, h, mi, s, us, iso_cases[i].iso);
        /* NULL outputs are allowed. */
        bs_civil_from_us(iso_cases[i].t, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    }
}

static void civil_offsets(void **state)
{
    int y, mo, d, h, mi, s, us;

    (void)state;
    /* 2024-02-28T20:30:00Z at +03:30 is 29 February 00:00 in Tehran. */
    bs_civil_from_us(INT64_C(1709152200000000), 210, &y, &mo, &d, &h, &mi, &s, &us);
    assert_int_equal(y, 2024);
    assert_int_equal(mo, 2);
    assert_int_equal(d, 29);
    assert_int_equal(h, 0);
    assert_int_equal(mi, 0);
    /* 1970-01-01T01:00Z at -05:00 is 1969-12-31 20:00 (a negative shifted time). */
    bs_civil_from_us(INT64_C(3600000000), -300, &y, &mo, &d, &h, &mi, &s, &us);
    assert_int_equal(y, 1969);
    assert_int_equal(mo, 12);
    assert_int_equal(d, 31);
    assert_int_equal(h, 20);
    assert_int_equal(us, 0);
    /* -0.5 s at +00:00 is 23:59:59.500000 of the previous day. */
    bs_civil_from_us(INT64_C(-500000), 0, &y, &mo, &d, &h, &mi, &s, &us);
    assert_int_equal(d, 31);
    assert_int_equal(h, 23);
    assert_int_equal(mi, 59);
    assert_int_equal(s, 59);
    assert_int_equal(us, 500000);
}

int t_run_journal(void)
{
    const struct CMUnitTest records[] = {
        cmocka_unit_test(journal_message_record),
        cmocka_unit_test(journal_wire_blanked),
        cmocka_unit_test(journal_escaping),
        cmocka_unit_test(journal_enospc),
    };
    const struct CMUnitTest times[] = {
        cmocka_unit_test(iso_time),
        cmocka_unit_test(civil_fields),
        cmocka_unit_test(civil_offsets),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("journal_records", records, NULL, NULL);
    failed += cmocka_run_group_tests_name("journal_time", times, NULL, NULL);
    return failed;
}
