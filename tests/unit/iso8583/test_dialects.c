/*
 * Dialect files: the four shipped dialects load and round-trip typical traffic; YAML
 * mistakes are reported as "file:line:column: what; how to fix".
 */
#include <stdio.h>
#include <string.h>

#include "test_common.h"

static const unsigned required[] = { 2,  3,  4,  6,  7,  10, 11, 12, 13,  14,  15,
                                     18, 22, 25, 32, 33, 35, 37, 38, 39,  41,  42,
                                     43, 49, 51, 52, 55, 70, 90, 95, 100, 127, 128 };

static void test_shipped_dialects_load(void **state)
{
    static const char *const names[] = { "iso87-ascii", "iso87-binary", "mir", "shetab" };

    (void)state;
    t_use_test_allocator();
    for (size_t i = 0; i < 4; i++) {
        struct bs_iso_dialect *d = t_load_dialect(names[i]);
        const struct bs_iso_field_spec *s;

        assert_string_equal(bs_iso_dialect_name(d), names[i]);
        /* Every DE 2-128 of ISO 8583:1987. */
        for (unsigned de = 2; de <= 128; de++)
            assert_true(bs_iso_dialect_field(d, de)->defined);
        for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
            assert_true(bs_iso_dialect_field(d, required[k])->defined);
        assert_int_equal(bs_iso_dialect_field(d, 2)->sensitivity, BS_ISO_MASKED);
        assert_int_equal(bs_iso_dialect_field(d, 35)->sensitivity, BS_ISO_SECRET);
        assert_int_equal(bs_iso_dialect_field(d, 36)->sensitivity, BS_ISO_SECRET);
        assert_int_equal(bs_iso_dialect_field(d, 45)->sensitivity, BS_ISO_SECRET);
        assert_int_equal(bs_iso_dialect_field(d, 52)->sensitivity, BS_ISO_SECRET);
        assert_int_equal(bs_iso_dialect_field(d, 55)->composite, BS_ISO_COMPOSITE_TLV);
        s = bs_iso_dialect_field(d, 32);
        assert_int_equal(s->format, BS_ISO_FMT_N);
        assert_int_equal(s->len_digits, 2);
        assert_int_equal(s->size, 11);
        assert_int_equal(bs_iso_dialect_field(d, 90)->size, 42);
        assert_int_equal(bs_iso_dialect_field(d, 43)->format, BS_ISO_FMT_ANS);
        assert_int_equal(bs_iso_dialect_field(d, 43)->size, 40);
        assert_int_equal(bs_iso_dialect_field(d, 37)->format, BS_ISO_FMT_AN);
        assert_int_equal(bs_iso_dialect_field(d, 49)->format, BS_ISO_FMT_N);
        assert_int_equal(bs_iso_dialect_field(d, 49)->size, 3);
        if (i >= 2) {
            /* Our signature envelope: LLLVAR binary up to 999, opaque to the codec. */
            s = bs_iso_dialect_field(d, 127);
            assert_int_equal(s->format, BS_ISO_FMT_B);
            assert_int_equal(s->len_digits, 3);
            assert_int_equal(s->size, 999);
            assert_int_equal(s->composite, BS_ISO_COMPOSITE_NONE);
        }
        if (strcmp(names[i], "mir") == 0) {
            assert_int_equal(bs_iso_dialect_mti_enc(d), BS_ISO_ENC_BCD);
            assert_int_equal(bs_iso_dialect_bitmap_enc(d), BS_ISO_BITMAP_BINARY);
            s = bs_iso_dialect_field(d, 2);
            assert_int_equal(s->data_enc, BS_ISO_ENC_BCD);
            assert_int_equal(s->prefix_enc, BS_ISO_ENC_BCD);
            assert_false(s->bcd_len_in_bytes);
            assert_true(s->pad_left);
            assert_int_equal(s->pad_nibble, 0);
            assert_int_equal(bs_iso_dialect_field(d, 41)->data_enc, BS_ISO_ENC_ASCII);
            assert_int_equal(bs_iso_dialect_field(d, 127)->prefix_enc, BS_ISO_ENC_BCD);
        }
        if (strcmp(names[i], "shetab") == 0) {
            assert_int_equal(bs_iso_dialect_mti_enc(d), BS_ISO_ENC_ASCII);
            assert_int_equal(bs_iso_dialect_bitmap_enc(d), BS_ISO_BITMAP_HEX_ASCII);
            assert_int_equal(bs_iso_dialect_field(d, 2)->data_enc, BS_ISO_ENC_ASCII);
            assert_int_equal(bs_iso_dialect_field(d, 127)->prefix_enc, BS_ISO_ENC_ASCII);
            assert_int_equal(bs_iso_dialect_field(d, 127)->data_enc, BS_ISO_ENC_BINARY);
        }
        bs_iso_dialect_free(d);
    }
}

/* A typical 0200 with 21 DEs, values in logical form. */
static void typical_0200(struct bs_iso_msg *m)
{
    static const uint8_t icc[] = { 0x9F, 0x02, 0x06, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x5F,
                                   0x2A, 0x02, 0x06, 0x43, 0x9F, 0x36, 0x02, 0x00, 0x2A };
    uint8_t sig[72];

    for (size_t i = 0; i < sizeof(sig); i++)
        sig[i] = (uint8_t)(i * 37 + 1);
    bs_iso_msg_init(m, "0200");
    bs_iso_msg_set_str(m, 2, "2200700123456781");
    bs_iso_msg_set_str(m, 3, "000000");
    bs_iso_msg_set_num(m, 4, 250000, 12);
    bs_iso_msg_set_str(m, 7, "1129120501");
    bs_iso_msg_set_num(m, 11, 4711, 6);
    bs_iso_msg_set_str(m, 12, "150501");
    bs_iso_msg_set_str(m, 13, "1129");
    bs_iso_msg_set_str(m, 14, "2812");
    bs_iso_msg_set_str(m, 18, "5411");
    bs_iso_msg_set_str(m, 22, "051");
    bs_iso_msg_set_str(m, 25, "00");
    bs_iso_msg_set_str(m, 32, "220070");
    bs_iso_msg_set_str(m, 35, "2200700123456781=28122011234");
    bs_iso_msg_set_str(m, 37, "433312000123");
    bs_iso_msg_set_str(m, 41, "TERM0001");
    bs_iso_msg_set_str(m, 42, "MERCHANT0000001");
    bs_iso_msg_set_str(m, 43, "GROCERY 17             MOSCOW         RU");
    bs_iso_msg_set_str(m, 49, "643");
    bs_iso_msg_set(m, 52, "\x12\x34\x56\x78\x9A\xBC\xDE\xF0", 8);
    bs_iso_msg_set(m, 55, icc, sizeof(icc));
    bs_iso_msg_set(m, 127, sig, sizeof(sig));
}

static void same_values(const struct bs_iso_msg *a, const struct bs_iso_msg *b)
{
    unsigned de;

    assert_string_equal(a->mti, b->mti);
    assert_memory_equal(a->present, b->present, sizeof(a->present));
    for (de = bs_iso_msg_next(a, 0); de; de = bs_iso_msg_next(a, de)) {
        size_t na, nb;
        const uint8_t *va = bs_iso_msg_get(a, de, &na), *vb = bs_iso_msg_get(b, de, &nb);

        if (na != nb || memcmp(va, vb, na) != 0)
            fail_msg("DE %u differs", de);
    }
}

static void round_trip(const char *name)
{
    static struct bs_iso_msg m, m2;
    static uint8_t out[4096], out2[4096];
    struct bs_iso_dialect *d = t_load_dialect(name);
    struct bs_iso_error err;
    size_t n, n2;

    typical_0200(&m);
    /* Plain ISO 8583:1987 has DE 127 as ans (reserved private): text, not signature bytes. */
    if (bs_iso_dialect_field(d, 127)->format != BS_ISO_FMT_B)
        bs_iso_msg_set_str(&m, 127, "PRIVATE USE 127");
    if (bs_iso_pack(d, &m, out, sizeof(out), &n, &err) < 0)
        fail_msg("%s: pack: DE %d: %s", name, err.de, err.reason);
    if (bs_iso_unpack(d, out, n, &m2, &err) < 0)
        fail_msg("%s: unpack: DE %d at %zu: %s", name, err.de, err.offset, err.reason);
    same_values(&m, &m2);
    assert_int_equal(bs_iso_pack(d, &m2, out2, sizeof(out2), &n2, &err), 0);
    assert_int_equal(n, n2);
    assert_memory_equal(out, out2, n);
    /* DE 127 starts where the signed bytes end. */
    assert_true(m2.wire_off[127] > m2.wire_off[55]);
    assert_true(m2.wire_off[127] < n);

    /* 0800 echo with DE 70, and a reversal with DE 90. */
    bs_iso_msg_init(&m, "0800");
    bs_iso_msg_set_str(&m, 7, "1129120501");
    bs_iso_msg_set_num(&m, 11, 1, 6);
    bs_iso_msg_set_str(&m, 70, "301");
    assert_int_equal(bs_iso_pack(d, &m, out, sizeof(out), &n, &err), 0);
    assert_int_equal(bs_iso_unpack(d, out, n, &m2, &err), 0);
    same_values(&m, &m2);
    bs_iso_msg_init(&m, "0420");
    bs_iso_msg_set_str(&m, 90, "020000471111291205010000022007000000000000");
    bs_iso_msg_set_str(&m, 95, "000000250000000000000000C00000000C00000000");
    assert_int_equal(bs_iso_pack(d, &m, out, sizeof(out), &n, &err), 0);
    assert_int_equal(bs_iso_unpack(d, out, n, &m2, &err), 0);
    same_values(&m, &m2);
    bs_iso_dialect_free(d);
}

static void test_round_trip_mir(void **state)
{
    (void)state;
    t_use_test_allocator();
    round_trip("mir");
}

static void test_round_trip_shetab(void **state)
{
    (void)state;
    t_use_test_allocator();
    round_trip("shetab");
}

static void test_round_trip_iso87(void **state)
{
    (void)state;
    t_use_test_allocator();
    round_trip("iso87-ascii");
    round_trip("iso87-binary");
}

static void test_translate_mir_shetab(void **state)
{
    static struct bs_iso_msg m, m2, m3;
    static uint8_t a[4096], b[4096], c[4096];
    struct bs_iso_dialect *mir, *shetab;
    struct bs_iso_error err;
    size_t na, nb, nc;

    (void)state;
    t_use_test_allocator();
    mir = t_load_dialect("mir");
    shetab = t_load_dialect("shetab");
    typical_0200(&m);
    assert_int_equal(bs_iso_pack(mir, &m, a, sizeof(a), &na, &err), 0);
    assert_int_equal(bs_iso_unpack(mir, a, na, &m2, &err), 0);
    assert_int_equal(bs_iso_pack(shetab, &m2, b, sizeof(b), &nb, &err), 0);
    assert_memory_equal(b, "0200F23C", 8); /* ASCII MTI and hex bitmap */
    assert_int_equal(bs_iso_unpack(shetab, b, nb, &m3, &err), 0);
    assert_int_equal(bs_iso_pack(mir, &m3, c, sizeof(c), &nc, &err), 0);
    assert_int_equal(na, nc);
    assert_memory_equal(a, c, na);
    assert_memory_equal(a, "\x02\x00\xF2\x3C", 4); /* BCD MTI, binary bitmap */
    bs_iso_dialect_free(mir);
    bs_iso_dialect_free(shetab);
}

static void test_issue_example(void **state)
{
    static const char hex[] = "3032303034303030303030303030303030303030313632323030373030313233"
                              "343536373831";
    static struct bs_iso_msg m;
    struct bs_iso_dialect *d;
    struct bs_iso_error err;
    uint8_t in[64];
    char buf[64];
    size_t n;

    (void)state;
    t_use_test_allocator();
    d = t_load_dialect("iso87-ascii");
    n = t_hex(hex, in, sizeof(in));
    assert_int_equal(bs_iso_unpack(d, in, n, &m, &err), 0);
    assert_string_equal(m.mti, "0200");
    assert_int_equal(bs_iso_field_text(d, &m, 2, false, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "220070******6781");
    /* Truncated LLVAR: the error names DE 2 and where it starts. */
    assert_int_equal(bs_iso_unpack(d, in, n - 1, &m, &err), BS_EFORMAT);
    bs_iso_error_format(&err, buf, sizeof(buf));
    assert_memory_equal(buf, "field 2, offset 20: ", 20);
    bs_iso_dialect_free(d);
}

/* ---- YAML errors ----------------------------------------------------------------------- */

static void expect_yaml_error(const char *yaml, const char *want)
{
    struct bs_iso_dialect *d = NULL;
    char err[512];
    int r = bs_iso_dialect_parse(yaml, strlen(yaml), "t.yaml", &d, err, sizeof(err));

    if (r >= 0) {
        bs_iso_dialect_free(d);
        fail_msg("accepted; want error '%s'", want);
    }
    assert_null(d);
    if (!strstr(err, want))
        fail_msg("got '%s'; want '%s'", err, want);
}

/* Every error of a dialect file in one pass, one line each (it used to stop at the first). */
static void test_yaml_all_errors(void **state)
{
    static const char text[] = "dialect: x\n"
                               "mti: foo\n"
                               "fields:\n"
                               "  2: {format: q, length: LL, max: 19}\n"
                               "  3: {format: n, length: fixed}\n"
                               "  4: {format: n, length: fixed, size: 12}\n"
                               "  5: {format: n, length: LL, max: 19, min: 30}\n";
    struct bs_iso_dialect *d = NULL;
    char err[2048];

    (void)state;
    assert_int_equal(bs_iso_dialect_parse(text, strlen(text), "t.yaml", &d, err, sizeof(err)),
                     BS_EFORMAT);
    assert_null(d);
    assert_non_null(strstr(err, "t.yaml:2:6: mti 'foo' is not valid"));
    assert_non_null(strstr(err, "\nt.yaml:4:15: field 2: format 'q' is not valid"));
    assert_non_null(strstr(err, "\nt.yaml:5:3: field 3 is fixed but has no 'size'"));
    assert_non_null(strstr(err, "\nt.yaml:7:44: field 5: min 30 is out of range; use 0 to 19"));
}

static void test_yaml_errors(void **state)
{
    (void)state;
    t_use_test_allocator();
    expect_yaml_error("dialect: x\n"
                      "fields:\n"
                      "  2: {format: n, lenght: LL, max: 19}\n",
                      "t.yaml:3:18: unknown key 'lenght' in field 2; did you mean 'length'?");
    expect_yaml_error("dialect: x\n"
                      "bitmaps: binary\n"
                      "fields: {2: {format: n, length: LL, max: 19}}\n",
                      "t.yaml:2:1: unknown key 'bitmaps' in the dialect; did you mean 'bitmap'?");
    expect_yaml_error("dialect: x\n"
                      "fields:\n"
                      "  2: {format: n, length: LL, max: 19\n",
                      "t.yaml:");
    expect_yaml_error("dialect: x\n"
                      "fields:\n"
                      "  2: {format: n, length: LL, max: 19\n",
                      "YAML syntax error");
    expect_yaml_error("dialect: x\nfields:\n  3: {format: n, length: fixed}\n",
                      "t.yaml:3:3: field 3 is fixed but has no 'size'; add 'size: N'");
    expect_yaml_error("dialect: x\nfields:\n  3: {format: n, length: fixed, max: 6}\n",
                      "t.yaml:3:38: field 3: 'max' is for variable fields");
    expect_yaml_error("dialect: x\nfields:\n  3: {format: nn, length: fixed, size: 6}\n",
                      "t.yaml:3:15: field 3: format 'nn' is not valid; did you mean 'n'?");
    expect_yaml_error("dialect: x\nfields:\n  1: {format: n, length: fixed, size: 6}\n",
                      "t.yaml:3:3: field number 1 is out of range; use 2 to 192");
    expect_yaml_error("dialect: x\nfields:\n  abc: {format: n, length: fixed, size: 6}\n",
                      "field number 'abc' is not a whole number");
    expect_yaml_error("dialect: x\nfields:\n  2: {format: n, length: fixed, size: 6}\n"
                      "  02: {format: n, length: fixed, size: 6}\n",
                      "t.yaml:4:3: field 2 is defined twice; keep one");
    expect_yaml_error("dialect: x\nfields:\n  2: {format: n, length: LL, max: 100}\n",
                      "max 100 does not fit 2 length digits");
    expect_yaml_error("dialect: x\nfields:\n  2: {format: an, length: LL, max: 10, data: bcd}\n",
                      "field 2: format an holds characters; use 'data: ascii' or 'data: ebcdic'");
    expect_yaml_error("dialect: x\nfields:\n  2: {format: b, length: LL, max: 10, data: ascii}\n",
                      "format b carries raw bytes");
    expect_yaml_error("dialect: x\nfields:\n  2: {format: n, length: LL, max: 19, unit: bytes}\n",
                      "'unit' applies to BCD data only");
    expect_yaml_error("", "t.yaml:1:1: file is empty");
    /* Screened before libfyaml: directives and bad text (libfyaml#101, #175, #370). */
    expect_yaml_error("%YAML 1.2\n---\ndialect: x\n", "t.yaml:1:1: YAML directives");
    expect_yaml_error("dialect: x\n%\"\xa6", "t.yaml:2:1: YAML directives");
    expect_yaml_error("dialect: x\xff\n", "t.yaml:1:11: invalid UTF-8");
    expect_yaml_error("dialect: \xc0\x80\n", "t.yaml:1:10: invalid UTF-8");
    expect_yaml_error("dialect: \xed\xa0\x80\n", "t.yaml:1:10: invalid UTF-8");
    expect_yaml_error("dialect: x\x01\n", "t.yaml:1:11: control character");
    expect_yaml_error("dialect: \"Ünïcode ok\"\n", "no 'fields' key");
    /* Tab indentation: a clean error, not libfyaml's crashing source display. */
    expect_yaml_error("x\t\t# \n\t\t\t\t\t\t\t\t\th\n\t\t\tx\t\t\t}\t\t}", "t.yaml:");
    expect_yaml_error("- 1\n- 2\n", "a dialect file is a mapping");
    expect_yaml_error("fields: {2: {format: n, length: LL, max: 19}}\n", "no 'dialect' key");
    expect_yaml_error("dialect: x\n", "no 'fields' key");
    expect_yaml_error("dialect: x\nfields: {}\n", "'fields' is empty");
    expect_yaml_error("dialect: x\nx: &a n\nfields: {2: {format: *a, length: LL, max: 19}}\n",
                      "unknown key 'x'");
    expect_yaml_error("dialect: x\nfields: {2: {format: &a n, length: LL, max: *a}}\n",
                      "not an alias");
    expect_yaml_error("dialect: x\nmti: asci\nfields: {2: {format: n, length: LL, max: 19}}\n",
                      "t.yaml:2:6: mti 'asci' is not valid; did you mean 'ascii'?");
    expect_yaml_error(
        "dialect: x\nheader_bytes: 40\nfields: {2: {format: n, length: LL, max: 19}}\n",
        "'header_bytes' 40 is out of range; use 0 to 32");
    expect_yaml_error("dialect: x\ndefaults: {n: {dat: bcd}}\n"
                      "fields: {2: {format: n, length: LL, max: 19}}\n",
                      "unknown key 'dat' in defaults for n; did you mean 'data'?");
    expect_yaml_error("dialect: x\nframe: {length: bcd2, max_bytes: 10000}\n"
                      "fields: {2: {format: n, length: LL, max: 19}}\n",
                      "frame max_bytes 10000 is out of range; use 1 to 9999");
    expect_yaml_error("dialect: x\nfields: {48: {format: ans, length: LLL, max: 99, composite: "
                      "tlv}}\n",
                      "BER-TLV needs a binary field");
    expect_yaml_error("dialect: x\nfields: {48: {format: ans, length: LLL, max: 99, composite: "
                      "{kind: bitmap}}}\n",
                      "needs 'fields'");
    expect_yaml_error("dialect: x\nfields:\n  2: {format: n, length: LL, max: 19, pad_char: ab}\n",
                      "pad_char must be exactly one character");
    expect_yaml_error("dialect: x\nfields:\n  2: [n, LL, 19]\n",
                      "field 2 must be a mapping, not a list");
    expect_yaml_error("dialect: x\nbitmap: {encoding: binary, tertiary: yes}\n"
                      "fields:\n  65: {format: n, length: LL, max: 19}\n",
                      "bitmap tertiary 'yes' is not valid");
    expect_yaml_error("dialect: x\nbitmap: {encoding: binary, tertiary: true}\n"
                      "fields:\n  65: {format: n, length: LL, max: 19}\n",
                      "t.yaml:4:3: field 65 announces the tertiary bitmap");
}

static void test_yaml_features(void **state)
{
    static const char yaml[] =
        "dialect: postilion-like\n"
        "header_bytes: 2\n"
        "mti: {encoding: ebcdic}\n"
        "bitmap: {encoding: hex-ebcdic, tertiary: true}\n"
        "frame: {length: bcd2, tpdu_bytes: 5, max_bytes: 2048, zero_length: error}\n"
        "defaults:\n"
        "  n: {data: bcd, prefix: binary, unit: bytes, pad: right, pad_nibble: F}\n"
        "  ans: {justify: right, pad_char: '_'}\n"
        "fields:\n"
        "  2: {name: PAN, format: n, length: LL, max: 19, sensitivity: masked}\n"
        "  41: {format: ans, length: fixed, size: 8}\n"
        "  127:\n"
        "    format: b\n"
        "    length: LLLLLL\n"
        "    max: 999999\n"
        "    prefix: ascii\n"
        "    composite:\n"
        "      bitmap: binary\n"
        "      fields:\n"
        "        2: {format: ans, length: LL, max: 32}\n"
        "        25: {format: ans, length: LLLL, max: 9999}\n"
        "  130: {format: an, length: fixed, size: 1}\n";
    struct bs_iso_dialect *d = NULL;
    const struct bs_iso_frame_cfg *fc;
    const struct bs_iso_field_spec *s;
    const struct bs_iso_dialect *sub;
    char err[256];

    (void)state;
    t_use_test_allocator();
    if (bs_iso_dialect_parse(yaml, strlen(yaml), "f.yaml", &d, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    assert_string_equal(bs_iso_dialect_name(d), "postilion-like");
    assert_int_equal(bs_iso_dialect_header_len(d), 2);
    assert_int_equal(bs_iso_dialect_mti_enc(d), BS_ISO_ENC_EBCDIC);
    assert_int_equal(bs_iso_dialect_bitmap_enc(d), BS_ISO_BITMAP_HEX_EBCDIC);
    assert_true(bs_iso_dialect_tertiary(d));
    fc = bs_iso_dialect_frame(d);
    assert_int_equal(fc->length, BS_ISO_FRAME_BCD2);
    assert_int_equal(fc->tpdu_len, 5);
    assert_int_equal(fc->max_len, 2048);
    assert_false(fc->zero_is_keepalive);
    s = bs_iso_dialect_field(d, 2);
    assert_string_equal(s->name, "PAN");
    assert_int_equal(s->data_enc, BS_ISO_ENC_BCD);
    assert_int_equal(s->prefix_enc, BS_ISO_ENC_BINARY);
    assert_true(s->bcd_len_in_bytes);
    assert_false(s->pad_left);
    assert_int_equal(s->pad_nibble, 0xF);
    assert_int_equal(s->sensitivity, BS_ISO_MASKED);
    s = bs_iso_dialect_field(d, 41);
    assert_true(s->justify_right);
    assert_int_equal(s->pad_char, '_');
    s = bs_iso_dialect_field(d, 127);
    assert_int_equal(s->composite, BS_ISO_COMPOSITE_BITMAP);
    assert_int_equal(s->len_digits, 6);
    sub = bs_iso_dialect_sub(d, 127);
    assert_non_null(sub);
    assert_int_equal(bs_iso_dialect_field(sub, 25)->len_digits, 4);
    assert_true(bs_iso_dialect_field(d, 130)->defined);
    bs_iso_dialect_free(d);
}

int t_run_dialects(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_dialects_load), cmocka_unit_test(test_round_trip_mir),
        cmocka_unit_test(test_round_trip_shetab),     cmocka_unit_test(test_round_trip_iso87),
        cmocka_unit_test(test_translate_mir_shetab),  cmocka_unit_test(test_issue_example),
        cmocka_unit_test(test_yaml_errors),           cmocka_unit_test(test_yaml_features),
        cmocka_unit_test(test_yaml_all_errors),
    };

    return cmocka_run_group_tests_name("iso8583_dialects", tests, NULL, NULL);
}
