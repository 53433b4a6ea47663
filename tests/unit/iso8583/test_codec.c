/*
 * Codec cases: the bug classes named in issue #3 (BCD padding, length prefixes, the
 * last DE, secondary bitmaps), encodings, padding and the message API.
 */
#include <stdio.h>
#include <string.h>

#include "test_common.h"

/* Internal (src/iso8583/iso_internal.h): turn the fast paths off to test the general ones. */
void bs__iso_dialect_set_fast(struct bs_iso_dialect *d, bool on);

struct fx {
    struct bs_iso_dialect *d;
    struct bs_iso_msg m;
    struct bs_iso_msg m2;
    uint8_t out[BS_ISO_MSG_DATA_MAX * 2];
    uint8_t in[BS_ISO_MSG_DATA_MAX * 2];
    struct bs_iso_error err;
};

static int setup(void **state)
{
    static struct fx f;

    t_use_test_allocator();
    memset(&f, 0, sizeof(f));
    assert_int_equal(bs_iso_dialect_new("test", &f.d), 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    bs_iso_dialect_free(f->d);
    f->d = NULL;
    return 0;
}

static void set(struct bs_iso_dialect *d, unsigned de, struct bs_iso_field_spec s)
{
    assert_int_equal(bs_iso_dialect_set_field(d, de, &s), 0);
}

/* Expect bs_iso_unpack() of @hex to fail naming @de at @offset with @why in the reason. */
static void expect_unpack_error(struct fx *f, const char *hex, int de, size_t offset,
                                const char *why)
{
    size_t n = t_hex(hex, f->in, sizeof(f->in));
    int r = bs_iso_unpack(f->d, f->in, n, &f->m, &f->err);

    assert_true(r < 0);
    if (f->err.de != de || f->err.offset != offset || !strstr(f->err.reason, why))
        fail_msg("got de %d offset %zu '%s'; want de %d offset %zu '%s'", f->err.de, f->err.offset,
                 f->err.reason, de, offset, why);
}

/* ---- BCD PAN, issue #3 case 1 -------------------------------------------------------- */

static void pan_dialect(struct fx *f, bool pad_left, uint8_t nibble)
{
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_N, 2, 19);

    s.prefix_enc = BS_ISO_ENC_BCD;
    s.data_enc = BS_ISO_ENC_BCD;
    s.pad_left = pad_left;
    s.pad_nibble = nibble;
    set(f->d, 2, s);
    set(f->d, 3, t_spec(BS_ISO_FMT_N, 0, 6));
}

static void check_pan19(struct fx *f, const char *want_hex)
{
    static const char pan[] = "2200123456789012345";
    uint8_t want[32];
    size_t wn = t_hex(want_hex, want, sizeof(want)), n;
    char buf[32];

    assert_int_equal(
        bs_iso_pack_field(f->d, 2, (const uint8_t *)pan, 19, f->out, sizeof(f->out), &n, &f->err),
        0);
    assert_int_equal(n, wn);
    assert_memory_equal(f->out, want, wn);

    /* In a message, followed by DE 3: DE 2 must consume exactly 11 bytes. */
    bs_iso_msg_init(&f->m, "0200");
    assert_int_equal(bs_iso_msg_set_str(&f->m, 2, pan), 0);
    assert_int_equal(bs_iso_msg_set_str(&f->m, 3, "000000"), 0);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 4 + 8 + 11 + 6);
    assert_memory_equal(f->out + 12, want, wn);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_int_equal(bs_iso_msg_get_str(&f->m2, 2, buf, sizeof(buf)), 19);
    assert_string_equal(buf, pan);
    assert_int_equal(f->m2.wire_off[2], 12);
    assert_int_equal(f->m2.wire_off[3] - f->m2.wire_off[2], 11);
}

static void test_pan19_left_pad0(void **state)
{
    struct fx *f = *state;

    pan_dialect(f, true, 0x0);
    check_pan19(f, "19 02 20 01 23 45 67 89 01 23 45");
}

static void test_pan19_right_padF(void **state)
{
    struct fx *f = *state;

    pan_dialect(f, false, 0xF);
    check_pan19(f, "19 22 00 12 34 56 78 90 12 34 5F");
}

static void test_pad_nibble_checked(void **state)
{
    struct fx *f = *state;

    pan_dialect(f, true, 0x0);
    /* An F where the dialect pads with 0, then a right-padded value in a left-pad dialect. */
    expect_unpack_error(f, "30323030 6000000000000000 19F22001234567890123 45 303030303030", 2, 12,
                        "pad nibble F, expected 0");
    expect_unpack_error(f,
                        "30323030 6000000000000000 19 22 00 12 34 56 78 90 12 34 5F "
                        "303030303030",
                        2, 12, "pad nibble 2");
    /* A non-digit nibble in the data. */
    expect_unpack_error(f, "30323030 6000000000000000 04 12 3A 303030303030", 2, 12,
                        "bad BCD nibble A");
}

/* ---- length prefixes, issue #3 case 2 ------------------------------------------------- */

static void ascii_dialect(struct fx *f)
{
    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_HEX_ASCII);
    set(f->d, 2, t_spec(BS_ISO_FMT_N, 2, 19));
}

static void test_prefix_errors(void **state)
{
    struct fx *f = *state;
    char hex[256];

    ascii_dialect(f);
    /* "-1" */
    expect_unpack_error(f, "30323030 34303030303030303030303030303030 2D31 31", 2, 20,
                        "\"-1\" is negative");
    /* "1A" */
    expect_unpack_error(f, "30323030 34303030303030303030303030303030 3141 31", 2, 20,
                        "\"1A\" is not numeric");
    /* 20 = max + 1, with 20 digits present */
    snprintf(hex, sizeof(hex), "30323030 34303030303030303030303030303030 3230 %s",
             "3132333435363738393031323334353637383930");
    expect_unpack_error(f, hex, 2, 20, "length exceeds maximum: 20 > 19");
    /* 05 with 4 digits left: one more than the bytes left */
    expect_unpack_error(f, "30323030 34303030303030303030303030303030 3035 31323334", 2, 20,
                        "length exceeds the bytes left");
    /* truncated inside the prefix */
    expect_unpack_error(f, "30323030 34303030303030303030303030303030 30", 2, 20,
                        "truncated length prefix");
}

static void test_prefix_errors_bcd_binary(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_ANS, 2, 19);

    s.prefix_enc = BS_ISO_ENC_BCD;
    set(f->d, 2, s);
    expect_unpack_error(f, "30323030 4000000000000000 1A 41", 2, 12, "\"1A\" is not numeric");
    expect_unpack_error(f, "30323030 4000000000000000 20 41", 2, 12, "exceeds maximum: 20 > 19");
    s.prefix_enc = BS_ISO_ENC_BINARY;
    set(f->d, 2, s);
    expect_unpack_error(f, "30323030 4000000000000000 14 41", 2, 12, "exceeds maximum: 20 > 19");
    expect_unpack_error(f, "30323030 4000000000000000 02 41", 2, 12, "bytes left");
    /* Binary prefixes are big-endian; LLL takes two bytes. */
    s = t_spec(BS_ISO_FMT_B, 3, 999);
    s.prefix_enc = BS_ISO_ENC_BINARY;
    set(f->d, 2, s);
    expect_unpack_error(f, "30323030 4000000000000000 03E8", 2, 12, "exceeds maximum: 1000 > 999");
    s.prefix_enc = BS_ISO_ENC_EBCDIC;
    set(f->d, 2, s);
    expect_unpack_error(f, "30323030 4000000000000000 F0C1F0", 2, 12, "\"0A0\" is not numeric");
}

/* ---- the last DE, issue #3 case 3 -------------------------------------------------------- */

static void test_de128_last(void **state)
{
    struct fx *f = *state;
    size_t n, len;
    const uint8_t *v;

    ascii_dialect(f);
    set(f->d, 3, t_spec(BS_ISO_FMT_N, 0, 6));
    set(f->d, 128, t_spec(BS_ISO_FMT_B, 0, 8));
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 3, "000000");
    bs_iso_msg_set(&f->m, 128, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 4 + 32 + 6 + 8);
    assert_memory_equal(f->out + 4, "A0000000000000000000000000000001", 32);

    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    v = bs_iso_msg_get(&f->m2, 128, &len);
    assert_non_null(v);
    assert_int_equal(len, 8);
    assert_memory_equal(v, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(f->m2.wire_off[128], n - 8);

    /* One byte more: rejected as extra data after DE 128. */
    f->out[n] = 0x09;
    assert_int_equal(bs_iso_unpack(f->d, f->out, n + 1, &f->m2, &f->err), BS_EFORMAT);
    assert_int_equal(f->err.de, 128);
    assert_int_equal(f->err.offset, n);
    assert_non_null(strstr(f->err.reason, "extra data after last field: 1 bytes"));
    /* One byte less: DE 128 is short. */
    assert_int_equal(bs_iso_unpack(f->d, f->out, n - 1, &f->m2, &f->err), BS_EFORMAT);
    assert_int_equal(f->err.de, 128);
    assert_int_equal(f->err.offset, n - 8);
    assert_non_null(strstr(f->err.reason, "bytes left"));
}

/* ---- bitmaps ------------------------------------------------------------------------------- */

static void test_0800_secondary_only_70(void **state)
{
    struct fx *f = *state;
    static const char want[] = "0800"
                               "8220000000000000"
                               "0400000000000000"
                               "1129120000"
                               "000001"
                               "301";
    size_t n;

    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_HEX_ASCII);
    set(f->d, 7, t_spec(BS_ISO_FMT_N, 0, 10));
    set(f->d, 11, t_spec(BS_ISO_FMT_N, 0, 6));
    set(f->d, 70, t_spec(BS_ISO_FMT_N, 0, 3));
    bs_iso_msg_init(&f->m, "0800");
    bs_iso_msg_set_str(&f->m, 7, "1129120000");
    bs_iso_msg_set_num(&f->m, 11, 1, 6);
    bs_iso_msg_set_num(&f->m, 70, 301, 3);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(f->out, want, n);

    /* Binary bitmaps: same bits. */
    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_BINARY);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_memory_equal(f->out + 4, "\x82\x20\0\0\0\0\0\0\x04\0\0\0\0\0\0\0", 16);
}

static void test_secondary_empty_accepted_not_emitted(void **state)
{
    struct fx *f = *state;
    static const char in[] = "0800"
                             "8200000000000000"
                             "0000000000000000"
                             "1129120000";
    size_t n;

    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_HEX_ASCII);
    set(f->d, 7, t_spec(BS_ISO_FMT_N, 0, 10));
    assert_int_equal(bs_iso_unpack(f->d, (const uint8_t *)in, strlen(in), &f->m, &f->err), 0);
    assert_true(bs_iso_msg_has(&f->m, 7));
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 4 + 16 + 10);
    assert_memory_equal(f->out, "08000200000000000000", 20);
}

static void test_bitmap_case_and_errors(void **state)
{
    struct fx *f = *state;
    static const char lower[] = "0200"
                                "0a00000000000000"
                                "12";
    size_t n;

    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_HEX_ASCII);
    set(f->d, 5, t_spec(BS_ISO_FMT_N, 0, 1));
    set(f->d, 7, t_spec(BS_ISO_FMT_N, 0, 1));
    assert_int_equal(bs_iso_unpack(f->d, (const uint8_t *)lower, strlen(lower), &f->m, &f->err), 0);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_memory_equal(f->out, "02000A00000000000000", 20);

    expect_unpack_error(f, "30323030 30413030303030303030303030303047 3132", 1, 4,
                        "non-hex bitmap");
    expect_unpack_error(f, "30323030 3041303030303030", 1, 4, "truncated bitmap");
    /* Secondary announced but missing. */
    expect_unpack_error(f, "30323030 38303030303030303030303030303030", 1, 20,
                        "secondary bitmap: truncated bitmap");
    /* A bit for a DE the dialect does not define: named, at the offset it would start. */
    expect_unpack_error(f, "30323030 30453030303030303030303030303030 3132", 6, 21,
                        "does not define");
    /* MTI problems. */
    expect_unpack_error(f, "3032", 0, 0, "truncated MTI");
    expect_unpack_error(f, "30324130 30413030303030303030303030303030 3132", 0, 0,
                        "not four digits");
}

static void test_tertiary(void **state)
{
    struct fx *f = *state;
    static const char want[] = "0100"
                               "8000000000000000"
                               "8000000000000000"
                               "4000000000000000"
                               "1";
    size_t n;

    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_HEX_ASCII);
    bs_iso_dialect_set_tertiary(f->d, true);
    set(f->d, 130, t_spec(BS_ISO_FMT_AN, 0, 1));
    assert_int_equal(bs_iso_dialect_set_field(
                         f->d, 65, &(struct bs_iso_field_spec){ .defined = true, .size = 1 }),
                     BS_EINVAL);
    bs_iso_msg_init(&f->m, "0100");
    bs_iso_msg_set_str(&f->m, 130, "1");
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(f->out, want, n);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_true(bs_iso_msg_has(&f->m2, 130));
    assert_false(bs_iso_msg_has(&f->m2, 65));

    /* Without a tertiary bitmap a DE above 128 cannot be sent. */
    bs_iso_dialect_set_tertiary(f->d, false);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), BS_EFORMAT);
    assert_int_equal(f->err.de, 130);
}

/* ---- encodings and padding ------------------------------------------------------------- */

static void test_ebcdic(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_ANS, 0, 8);
    struct bs_iso_field_spec l = t_spec(BS_ISO_FMT_N, 2, 19);
    uint8_t want[64];
    size_t wn, n;
    char buf[16];

    bs_iso_dialect_set_mti(f->d, BS_ISO_ENC_EBCDIC);
    bs_iso_dialect_set_bitmap(f->d, BS_ISO_BITMAP_HEX_EBCDIC);
    s.data_enc = BS_ISO_ENC_EBCDIC;
    set(f->d, 43, s);
    l.prefix_enc = BS_ISO_ENC_EBCDIC;
    l.data_enc = BS_ISO_ENC_EBCDIC;
    set(f->d, 2, l);
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 2, "4761");
    bs_iso_msg_set_str(&f->m, 43, "A^[B");
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    /* MTI; bitmap 4000000000200000 in EBCDIC hex; F0F4 F4F7F6F1; cp500 ^ = 5F, [ = 4A. */
    wn = t_hex("F0F2F0F0 F4F0F0F0F0F0F0F0F0F0F2F0F0F0F0F0 F0F4 F4F7F6F1 C15F4AC240404040", want,
               sizeof(want));
    assert_int_equal(n, wn);
    assert_memory_equal(f->out, want, wn);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_string_equal(f->m2.mti, "0200");
    assert_int_equal(bs_iso_msg_get_str(&f->m2, 43, buf, sizeof(buf)), 8);
    assert_string_equal(buf, "A^[B    ");
    /* An EBCDIC letter in an n field is caught after conversion. */
    f->out[22] = 0xC1;
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), BS_EFORMAT);
    assert_int_equal(f->err.de, 2);
    assert_non_null(strstr(f->err.reason, "non-digit"));
}

static void test_fixed_padding(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec an = t_spec(BS_ISO_FMT_AN, 0, 5);
    uint8_t pin[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    size_t n;

    set(f->d, 4, t_spec(BS_ISO_FMT_N, 0, 6));
    assert_int_equal(
        bs_iso_pack_field(f->d, 4, (const uint8_t *)"42", 2, f->out, sizeof(f->out), &n, &f->err),
        0);
    assert_int_equal(n, 6);
    assert_memory_equal(f->out, "000042", 6);

    an.pad_char = '_';
    set(f->d, 41, an);
    assert_int_equal(
        bs_iso_pack_field(f->d, 41, (const uint8_t *)"ab", 2, f->out, sizeof(f->out), &n, &f->err),
        0);
    assert_memory_equal(f->out, "ab___", 5);
    an.justify_right = true;
    set(f->d, 41, an);
    assert_int_equal(
        bs_iso_pack_field(f->d, 41, (const uint8_t *)"ab", 2, f->out, sizeof(f->out), &n, &f->err),
        0);
    assert_memory_equal(f->out, "___ab", 5);
    assert_int_equal(bs_iso_pack_field(f->d, 41, (const uint8_t *)"abcdef", 6, f->out,
                                       sizeof(f->out), &n, &f->err),
                     BS_EFORMAT);
    assert_int_equal(f->err.de, 41);

    /* A short binary value has no neutral filler: refused. */
    set(f->d, 52, t_spec(BS_ISO_FMT_B, 0, 8));
    assert_int_equal(bs_iso_pack_field(f->d, 52, pin, 7, f->out, sizeof(f->out), &n, &f->err),
                     BS_EFORMAT);
    assert_int_equal(bs_iso_pack_field(f->d, 52, pin, 8, f->out, sizeof(f->out), &n, &f->err), 0);

    /* BCD fixed odd: n3 currency 643 with a left 0 pad, 0643. */
    {
        struct bs_iso_field_spec c = t_spec(BS_ISO_FMT_N, 0, 3);

        c.data_enc = BS_ISO_ENC_BCD;
        set(f->d, 49, c);
        assert_int_equal(bs_iso_pack_field(f->d, 49, (const uint8_t *)"643", 3, f->out,
                                           sizeof(f->out), &n, &f->err),
                         0);
        assert_int_equal(n, 2);
        assert_memory_equal(f->out, "\x06\x43", 2);
        assert_int_equal(bs_iso_pack_field(f->d, 49, (const uint8_t *)"64", 2, f->out,
                                           sizeof(f->out), &n, &f->err),
                         0);
        assert_memory_equal(f->out, "\x00\x64", 2);
        c.pad_left = false;
        c.pad_nibble = 0xF;
        set(f->d, 49, c);
        assert_int_equal(bs_iso_pack_field(f->d, 49, (const uint8_t *)"643", 3, f->out,
                                           sizeof(f->out), &n, &f->err),
                         0);
        assert_memory_equal(f->out, "\x64\x3F", 2);
    }
    /* Non-digits never leave as an n field. */
    assert_int_equal(
        bs_iso_pack_field(f->d, 4, (const uint8_t *)"4a", 2, f->out, sizeof(f->out), &n, &f->err),
        BS_EFORMAT);
    assert_non_null(strstr(f->err.reason, "non-digit"));
}

static void test_bcd_byte_count(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_N, 2, 19);
    size_t n;
    char buf[32];

    s.prefix_enc = BS_ISO_ENC_BCD;
    s.data_enc = BS_ISO_ENC_BCD;
    s.bcd_len_in_bytes = true;
    s.pad_nibble = 0xF;
    set(f->d, 2, s);
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 2, "123");
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 4 + 8 + 3);
    assert_memory_equal(f->out + 12, "\x02\xF1\x23", 3);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_int_equal(bs_iso_msg_get_str(&f->m2, 2, buf, sizeof(buf)), 3);
    assert_string_equal(buf, "123");

    /* With a 0 pad the count cannot tell: the value keeps the 0, the bytes survive. */
    s.pad_nibble = 0x0;
    set(f->d, 2, s);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_memory_equal(f->out + 12, "\x02\x01\x23", 3);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_int_equal(bs_iso_msg_get_str(&f->m2, 2, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "0123");
    assert_int_equal(bs_iso_pack(f->d, &f->m2, f->in, sizeof(f->in), &n, &f->err), 0);
    assert_memory_equal(f->in, f->out, n);
    /* 10 bytes = 20 digits is the most a 19-digit field takes under a byte count. */
    s.pad_nibble = 0xF;
    set(f->d, 2, s);
    expect_unpack_error(f, "30323030 4000000000000000 11 0102030405060708091011", 2, 12,
                        "exceeds maximum: 11 > 10");
}

static void test_track_data(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_Z, 2, 37);
    static const char t2[] = "4761340000000019=25121011234";
    size_t n;
    char buf[64];

    set(f->d, 35, s);
    assert_int_equal(bs_iso_pack_field(f->d, 35, (const uint8_t *)t2, strlen(t2), f->out,
                                       sizeof(f->out), &n, &f->err),
                     0);
    assert_int_equal(n, 2 + strlen(t2));
    assert_int_equal(bs_iso_pack_field(f->d, 35, (const uint8_t *)"47^1", 4, f->out, sizeof(f->out),
                                       &n, &f->err),
                     BS_EFORMAT);

    /* BCD track: '=' travels as nibble D, odd count padded F on the right. */
    s.prefix_enc = BS_ISO_ENC_BCD;
    s.data_enc = BS_ISO_ENC_BCD;
    s.pad_left = false;
    s.pad_nibble = 0xF;
    set(f->d, 35, s);
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 35, t2);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 4 + 8 + 1 + 14);
    assert_memory_equal(f->out + 12, "\x28\x47\x61\x34\x00\x00\x00\x00\x19\xD2\x51\x21\x01\x12\x34",
                        15);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_int_equal(bs_iso_msg_get_str(&f->m2, 35, buf, sizeof(buf)), (int)strlen(t2));
    assert_string_equal(buf, t2);
}

/*
 * a/an/ans are printable (ISO 8583:1987 §4.2): a control byte or DEL is a format error on
 * unpack and on pack, in the fast path and the general one alike; bytes from 0x80 pass
 * (national code pages).
 */
static void test_text_control_bytes(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = { "TERM\001001", "TERM\177001", "TERM\n001", "\tERM0001" };
    size_t n;

    for (int fast = 1; fast >= 0; fast--) {
        set(f->d, 41, t_spec(BS_ISO_FMT_ANS, 0, 8));
        set(f->d, 43, t_spec(BS_ISO_FMT_AN, 2, 40));
        bs__iso_dialect_set_fast(f->d, fast);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            for (unsigned de = 41; de <= 43; de += 2) {
                bs_iso_msg_init(&f->m, "0200");
                bs_iso_msg_set_str(&f->m, de, bad[i]);
                assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err),
                                 BS_EFORMAT);
                assert_int_equal(f->err.de, (int)de);
                assert_non_null(strstr(f->err.reason, "control character"));
            }
        }
        /* The same bytes on the wire: 0200, bitmap with DE 41, then the 8 bytes. */
        expect_unpack_error(f, "30323030 0000000000800000 5445524D01303031", 41, 12,
                            "control character (below 0x20, or 0x7f) in a text field at data "
                            "byte 4");
        expect_unpack_error(f, "30323030 0000000000200000 3038 5445524D7F303031", 43, 12,
                            "control character");
        /* Printable ASCII and bytes of a national code page are fine. */
        n = t_hex("30323030 0000000000800000 5445524DE9303031", f->in, sizeof(f->in));
        assert_int_equal(bs_iso_unpack(f->d, f->in, n, &f->m, &f->err), 0);
        bs_iso_msg_init(&f->m, "0200");
        bs_iso_msg_set_str(&f->m, 43, "GROCERY 17 ~!@#$%^&*()_+{}|:<>?");
        assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    }
}

/* A variable field's minimum length (dialect key `min`): DE 2 of the shipped dialects is
 * 8..19 digits, so an empty LLVAR PAN is a format error both ways. */
static void test_min_length(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_N, 2, 19);
    size_t n;

    s.min_size = 8;
    for (int fast = 1; fast >= 0; fast--) {
        set(f->d, 2, s);
        bs__iso_dialect_set_fast(f->d, fast);
        expect_unpack_error(f, "30323030 4000000000000000 3030", 2, 12,
                            "length 0 is below the minimum 8 of this field");
        expect_unpack_error(f, "30323030 4000000000000000 3037 31323334353637", 2, 12,
                            "length 7 is below the minimum 8");
        n = t_hex("30323030 4000000000000000 3038 3132333435363738", f->in, sizeof(f->in));
        assert_int_equal(bs_iso_unpack(f->d, f->in, n, &f->m, &f->err), 0);
        bs_iso_msg_init(&f->m, "0200");
        bs_iso_msg_set(&f->m, 2, "", 0);
        assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), BS_EFORMAT);
        assert_non_null(strstr(f->err.reason, "below the minimum 8"));
    }
    /* A minimum above the maximum, or on a fixed field, is an inconsistent spec. */
    s.min_size = 20;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 2, &s), BS_EINVAL);
    s = t_spec(BS_ISO_FMT_N, 0, 6);
    s.min_size = 3;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 3, &s), BS_EINVAL);
}

/* The shipped dialects: DE 2 of length 0 is refused (it used to decode). */
static void test_shipped_pan_min(void **state)
{
    static const char *const names[] = { "mir", "shetab", "iso87-ascii", "iso87-binary" };

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct bs_iso_dialect *d = t_load_dialect(names[i]);

        assert_int_equal(bs_iso_dialect_field(d, 2)->min_size, 8);
        bs_iso_dialect_free(d);
    }
}

static void test_header(void **state)
{
    struct fx *f = *state;
    size_t n;

    assert_int_equal(bs_iso_dialect_set_header(f->d, 33), BS_ELIMIT);
    assert_int_equal(bs_iso_dialect_set_header(f->d, 3), 0);
    set(f->d, 3, t_spec(BS_ISO_FMT_N, 0, 6));
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 3, "123456");
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_memory_equal(f->out,
                        "\0\0\0"
                        "0200",
                        7);
    assert_int_equal(bs_iso_msg_set_header(&f->m, "ISO", 3), 0);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_memory_equal(f->out, "ISO0200", 7);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_int_equal(f->m2.header_len, 3);
    assert_memory_equal(f->m2.header, "ISO", 3);
    assert_int_equal(bs_iso_msg_set_header(&f->m, "IS", 2), 0);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), BS_EFORMAT);
    assert_int_equal(f->err.de, 0);
    expect_unpack_error(f, "4953", 0, 0, "truncated header");
}

static void test_pack_errors(void **state)
{
    struct fx *f = *state;
    size_t n;

    set(f->d, 3, t_spec(BS_ISO_FMT_N, 0, 6));
    set(f->d, 48, t_spec(BS_ISO_FMT_ANS, 3, 999));
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 3, "123456");
    bs_iso_msg_set_str(&f->m, 5, "1");
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), BS_EFORMAT);
    assert_int_equal(f->err.de, 5);
    bs_iso_msg_unset(&f->m, 5);
    for (size_t cap = 0; cap < 18; cap++)
        assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, cap, &n, &f->err), BS_ENOSPC);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, 18, &n, &f->err), 0);
    /* An empty variable field keeps its prefix (moov-io/iso8583 #179). */
    bs_iso_msg_set(&f->m, 48, "", 0);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 21);
    assert_memory_equal(f->out + 18, "000", 3);
    assert_int_equal(bs_iso_unpack(f->d, f->out, n, &f->m2, &f->err), 0);
    assert_true(bs_iso_msg_has(&f->m2, 48));
}

/* ---- dialect specs -------------------------------------------------------------------------- */

static void test_spec_checks(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s;

    s = t_spec(BS_ISO_FMT_N, 2, 100); /* 100 does not fit LL */
    assert_int_equal(bs_iso_dialect_set_field(f->d, 2, &s), BS_EINVAL);
    s = t_spec(BS_ISO_FMT_N, 0, 0);
    assert_int_equal(bs_iso_dialect_set_field(f->d, 2, &s), BS_EINVAL);
    s = t_spec(BS_ISO_FMT_AN, 0, 3);
    s.data_enc = BS_ISO_ENC_BCD;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 2, &s), BS_EINVAL);
    s = t_spec(BS_ISO_FMT_N, 0, 3);
    s.pad_nibble = 0x5;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 2, &s), BS_EINVAL);
    s = t_spec(BS_ISO_FMT_B, 4, 9999);
    s.prefix_enc = BS_ISO_ENC_BINARY;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 2, &s), 0);
    s = t_spec(BS_ISO_FMT_B, 2, 99);
    assert_int_equal(bs_iso_dialect_set_field(f->d, 1, &s), BS_EINVAL);
    assert_int_equal(bs_iso_dialect_set_field(f->d, 193, &s), BS_EINVAL);
    s.composite = BS_ISO_COMPOSITE_TLV;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 55, &s), 0);
    s = t_spec(BS_ISO_FMT_ANS, 2, 99);
    s.composite = BS_ISO_COMPOSITE_TLV;
    assert_int_equal(bs_iso_dialect_set_field(f->d, 48, &s), BS_EINVAL);
    assert_int_equal(bs_iso_dialect_set_mti(f->d, BS_ISO_ENC_BINARY), BS_EINVAL);
    assert_null(bs_iso_dialect_field(f->d, 0));
    assert_false(bs_iso_dialect_field(f->d, 3)->defined);
    assert_string_equal(bs_iso_dialect_name(f->d), "test");
}

static void test_composite_fixed_and_bitmap(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_N, 0, 6);
    struct bs_iso_msg *sub = &f->m2;
    char buf[16];
    size_t n;

    s.composite = BS_ISO_COMPOSITE_FIXED;
    set(f->d, 3, s);
    for (unsigned i = 1; i <= 3; i++)
        assert_int_equal(bs_iso_dialect_set_subfield(f->d, 3, i,
                                                     &(struct bs_iso_field_spec){
                                                         .defined = true,
                                                         .format = BS_ISO_FMT_N,
                                                         .size = 2,
                                                     }),
                         0);
    assert_int_equal(bs_iso_sub_unpack(f->d, 3, (const uint8_t *)"123456", 6, 0, sub, &f->err), 0);
    assert_int_equal(bs_iso_msg_get_str(sub, 2, buf, sizeof(buf)), 2);
    assert_string_equal(buf, "34");
    assert_int_equal(bs_iso_sub_pack(f->d, 3, sub, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(f->out, "123456", 6);
    assert_int_equal(bs_iso_sub_unpack(f->d, 3, (const uint8_t *)"1234", 4, 100, sub, &f->err),
                     BS_EFORMAT);
    assert_int_equal(f->err.de, 3);
    assert_int_equal(f->err.sub, 3);
    assert_int_equal(f->err.offset, 104);
    bs_iso_error_format(&f->err, buf, sizeof(buf));
    assert_memory_equal(buf, "field 3.3, offs", 15);
    bs_iso_msg_unset(sub, 2);
    assert_int_equal(bs_iso_sub_pack(f->d, 3, sub, f->out, sizeof(f->out), &n, &f->err),
                     BS_EFORMAT);

    /* Not a composite: no layout. */
    set(f->d, 4, t_spec(BS_ISO_FMT_N, 0, 6));
    assert_int_equal(bs_iso_dialect_set_subfield(f->d, 4, 1, &s), BS_EINVAL);
    assert_int_equal(bs_iso_sub_unpack(f->d, 4, (const uint8_t *)"1", 1, 0, sub, &f->err),
                     BS_EINVAL);

    /* A nested bitmap (Postilion DE 127): bit 1 is an ordinary subfield, no extension. */
    s = t_spec(BS_ISO_FMT_B, 3, 999);
    s.composite = BS_ISO_COMPOSITE_BITMAP;
    set(f->d, 127, s);
    assert_int_equal(bs_iso_dialect_set_sub_bitmap(f->d, 127, BS_ISO_BITMAP_HEX_ASCII), 0);
    assert_int_equal(bs_iso_dialect_set_subfield(f->d, 127, 1,
                                                 &(struct bs_iso_field_spec){
                                                     .defined = true,
                                                     .format = BS_ISO_FMT_AN,
                                                     .size = 2,
                                                 }),
                     0);
    assert_int_equal(bs_iso_dialect_set_subfield(f->d, 127, 65, &s), BS_EINVAL);
    bs_iso_msg_init(sub, "0000");
    bs_iso_msg_set_str(sub, 2, "x");
    assert_int_equal(bs_iso_sub_pack(f->d, 127, sub, f->out, sizeof(f->out), &n, &f->err),
                     BS_EFORMAT);
    assert_int_equal(f->err.sub, 2);
    bs_iso_msg_unset(sub, 2);
    assert_int_equal(bs_iso_msg_set_str(sub, 1, "ab"), BS_EINVAL); /* DE 1 not settable */
    assert_int_equal(
        bs_iso_sub_unpack(f->d, 127, (const uint8_t *)"8000000000000000ab", 18, 0, sub, &f->err),
        0);
    assert_true(bs_iso_msg_has(sub, 1));
    assert_int_equal(bs_iso_sub_pack(f->d, 127, sub, f->out, sizeof(f->out), &n, &f->err), 0);
    assert_int_equal(n, 18);
    assert_memory_equal(f->out, "8000000000000000ab", 18);
    assert_int_equal(
        bs_iso_sub_unpack(f->d, 127, (const uint8_t *)"80000000000000zzab", 18, 0, sub, &f->err),
        BS_EFORMAT);
    assert_int_equal(f->err.sub, 0);

    /* Undefining a composite frees its layout (no leak under the test allocator). */
    s.defined = false;
    set(f->d, 3, s);
    set(f->d, 127, s);
    assert_null(bs_iso_dialect_sub(f->d, 3));
}

/* ---- message API -------------------------------------------------------------------------------
 */

static void test_msg_api(void **state)
{
    struct fx *f = *state;
    struct bs_iso_msg *m = &f->m;
    int64_t v;
    char buf[32];
    size_t n;

    assert_int_equal(bs_iso_msg_init(m, "02x0"), BS_EINVAL);
    assert_string_equal(m->mti, "0000");
    assert_int_equal(bs_iso_msg_init(m, "0200"), 0);
    assert_int_equal(bs_iso_msg_set_mti(m, "0210"), 0);
    assert_int_equal(bs_iso_msg_set_mti(m, "021"), BS_EINVAL);
    assert_int_equal(bs_iso_msg_set(m, 1, "x", 1), BS_EINVAL);
    assert_int_equal(bs_iso_msg_set(m, 193, "x", 1), BS_EINVAL);
    assert_int_equal(bs_iso_msg_set_num(m, 4, 12345, 12), 0);
    assert_int_equal(bs_iso_msg_get_str(m, 4, buf, sizeof(buf)), 12);
    assert_string_equal(buf, "000000012345");
    assert_int_equal(bs_iso_msg_get_num(m, 4, &v), 0);
    assert_int_equal(v, 12345);
    assert_int_equal(bs_iso_msg_set_num(m, 11, 1000000, 6), BS_ERANGE);
    assert_int_equal(bs_iso_msg_set_num(m, 11, -1, 6), BS_ERANGE);
    assert_int_equal(bs_iso_msg_get_num(m, 11, &v), BS_ENOTFOUND);
    assert_int_equal(bs_iso_msg_get_str(m, 4, buf, 12), BS_ENOSPC);
    bs_iso_msg_set_str(m, 39, "0A");
    assert_int_equal(bs_iso_msg_get_num(m, 39, &v), BS_EFORMAT);

    /* Replacing in place, growing, iterating, compacting. */
    bs_iso_msg_set_str(m, 2, "1234567890");
    bs_iso_msg_set_str(m, 2, "12345");
    assert_int_equal(m->used, 12 + 2 + 10);
    bs_iso_msg_set_str(m, 39, "00");
    bs_iso_msg_set_str(m, 2, "2200700123456781");
    bs_iso_msg_set_str(m, 130, "Z");
    bs_iso_msg_unset(m, 4);
    assert_int_equal(bs_iso_msg_next(m, 0), 2);
    assert_int_equal(bs_iso_msg_next(m, 2), 39);
    assert_int_equal(bs_iso_msg_next(m, 39), 130);
    assert_int_equal(bs_iso_msg_next(m, 130), 0);
    assert_int_equal(bs_iso_msg_next(m, 64), 130);
    bs_iso_msg_compact(m);
    assert_int_equal(m->used, 16 + 2 + 1);
    assert_int_equal(bs_iso_msg_get_str(m, 2, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "2200700123456781");
    assert_int_equal(bs_iso_msg_get_str(m, 39, buf, sizeof(buf)), 2);
    assert_string_equal(buf, "00");
    bs_iso_msg_copy(&f->m2, m);
    assert_int_equal(bs_iso_msg_get_str(&f->m2, 130, buf, sizeof(buf)), 1);
    assert_string_equal(f->m2.mti, "0210");

    /* Storage is bounded. */
    bs_iso_msg_init(m, "0200");
    for (unsigned de = 2; de < 10; de++)
        assert_int_equal(bs_iso_msg_set(m, de, f->in, 1000), 0);
    assert_int_equal(bs_iso_msg_set(m, 10, f->in, 193), BS_ELIMIT);
    assert_int_equal(bs_iso_msg_set(m, 10, f->in, 192), 0);
    (void)n;
}

static void test_field_text(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_N, 2, 19);
    char buf[64];

    s.sensitivity = BS_ISO_MASKED;
    set(f->d, 2, s);
    s = t_spec(BS_ISO_FMT_Z, 2, 37);
    s.sensitivity = BS_ISO_SECRET;
    set(f->d, 35, s);
    set(f->d, 64, t_spec(BS_ISO_FMT_B, 0, 8));
    set(f->d, 41, t_spec(BS_ISO_FMT_ANS, 0, 8));
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 2, "2200700123456781");
    bs_iso_msg_set_str(&f->m, 35, "2200700123456781=2512");
    bs_iso_msg_set(&f->m, 64, "\x01\xAB\0\0\0\0\0\xFF", 8);
    bs_iso_msg_set_str(&f->m, 41, "TERM0001");
    assert_int_equal(bs_iso_field_text(f->d, &f->m, 2, false, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "220070******6781");
    assert_int_equal(bs_iso_field_text(f->d, &f->m, 2, true, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "2200700123456781");
    bs_iso_field_text(f->d, &f->m, 35, true, buf, sizeof(buf));
    assert_string_equal(buf, "[redacted]");
    bs_iso_field_text(f->d, &f->m, 64, false, buf, sizeof(buf));
    assert_string_equal(buf, "01AB0000000000FF");
    bs_iso_field_text(f->d, &f->m, 41, false, buf, sizeof(buf));
    assert_string_equal(buf, "TERM0001");
    assert_int_equal(bs_iso_field_text(f->d, &f->m, 3, false, buf, sizeof(buf)), BS_ENOTFOUND);
    assert_int_equal(bs_iso_field_text(f->d, &f->m, 2, false, buf, 16), BS_ENOSPC);
    assert_int_equal(bs_iso_field_text(f->d, &f->m, 64, false, buf, 17), 16);
    assert_int_equal(bs_iso_field_text(f->d, &f->m, 64, false, buf, 16), BS_ENOSPC);
    bs_iso_mask_text(BS_ISO_MASKED, (const uint8_t *)"1234567890", 10, buf, sizeof(buf));
    assert_string_equal(buf, "**********");
}

static void test_error_format(void **state)
{
    struct bs_iso_error e = { 2, -1, 20, "length exceeds maximum: 7 > 6" };
    char buf[128];

    (void)state;
    bs_iso_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "field 2, offset 20: length exceeds maximum: 7 > 6");
    e.de = 0;
    bs_iso_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "MTI, offset 20: length exceeds maximum: 7 > 6");
    e.de = 1;
    bs_iso_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "bitmap, offset 20: length exceeds maximum: 7 > 6");
    e.de = 127;
    e.sub = 25;
    bs_iso_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "field 127.25, offset 20: length exceeds maximum: 7 > 6");
    e.de = -1;
    e.sub = -1;
    bs_iso_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "offset 20: length exceeds maximum: 7 > 6");
}

static void test_unpack_never_overreads(void **state)
{
    struct fx *f = *state;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_N, 2, 19);
    size_t n;

    /* Every truncation of a valid message is an error, never a read past the end
     * (run under ASan: the copies are exact-size heap blocks). */
    s.prefix_enc = BS_ISO_ENC_BCD;
    s.data_enc = BS_ISO_ENC_BCD;
    set(f->d, 2, s);
    set(f->d, 43, t_spec(BS_ISO_FMT_ANS, 0, 40));
    set(f->d, 127, t_spec(BS_ISO_FMT_B, 3, 999));
    bs_iso_msg_init(&f->m, "0200");
    bs_iso_msg_set_str(&f->m, 2, "2200123456789012345");
    bs_iso_msg_set_str(&f->m, 43, "SHOP");
    bs_iso_msg_set(&f->m, 127, f->in, 100);
    assert_int_equal(bs_iso_pack(f->d, &f->m, f->out, sizeof(f->out), &n, &f->err), 0);
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = test_malloc(k ? k : 1);

        memcpy(copy, f->out, k);
        assert_true(bs_iso_unpack(f->d, copy, k, &f->m2, &f->err) < 0);
        test_free(copy);
    }
}

int t_run_codec(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pan19_left_pad0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pan19_right_padF, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pad_nibble_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_errors_bcd_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_de128_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_0800_secondary_only_70, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secondary_empty_accepted_not_emitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitmap_case_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tertiary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ebcdic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bcd_byte_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_track_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_control_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_min_length, setup, teardown),
        cmocka_unit_test(test_shipped_pan_min),
        cmocka_unit_test_setup_teardown(test_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spec_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_composite_fixed_and_bitmap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msg_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_text, setup, teardown),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test_setup_teardown(test_unpack_never_overreads, setup, teardown),
    };

    return cmocka_run_group_tests_name("iso8583_codec", tests, NULL, NULL);
}
